"""The local stack refuses what AWS refuses for size and count (npsloop_local.moto_limits), through botocore.

Each limit is probed where moto alone is laxer (multi-byte text, message attributes, the
``Time`` of an entry, the overhead of DynamoDB lists), so these tests fail without the patch.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from npsloop_local import moto_limits

KIB = 1024


def error_of(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


# ----- EventBridge ------------------------------------------------------------------------------


def entry(stack, detail_bytes: int, **extra) -> dict:
    """A PutEvents entry whose size by AWS's rule is ``detail_bytes`` plus Source and DetailType."""
    filler = "x" * (detail_bytes - len('{"pad":""}'))
    return {
        "EventBusName": stack.outputs["EventBusName"],
        "Source": "acme.test",
        "DetailType": "Padding",
        "Detail": json.dumps({"pad": filler}, separators=(",", ":")),
        **extra,
    }


def test_put_events_counts_time_source_detail_type_and_detail_as_aws_documents(stack):
    # GIVEN entries just under 256 KB by the documented rule, one of them with a Time (14 bytes)
    events = stack.client("events")
    overhead = len("acme.test") + len("Padding")
    fits = entry(stack, 256 * KIB - overhead - 1)
    with_time = entry(stack, 256 * KIB - overhead - 1, Time="2026-11-20T10:30:00Z")
    assert moto_limits.put_events_entry_size(with_time) == 256 * KIB - 1 + 14

    # WHEN each is put alone
    accepted = events.put_events(Entries=[fits])

    # THEN the first is accepted, and the Time pushes the second over: the whole request fails
    assert accepted["FailedEntryCount"] == 0
    assert error_of(events.put_events, Entries=[with_time]) == (
        "ValidationException",
        "Total size of the entries in the request is over the limit.",
    )


def test_put_events_refuses_a_request_whose_entries_total_over_256_kb(stack):
    # GIVEN three entries of 100 KB each (each one alone is fine)
    events = stack.client("events")
    entries = [entry(stack, 100 * KIB) for _ in range(3)]

    # THEN together they are refused as one request, and two of them go
    assert error_of(events.put_events, Entries=entries)[0] == "ValidationException"
    assert events.put_events(Entries=entries[:2])["FailedEntryCount"] == 0


# ----- SQS --------------------------------------------------------------------------------------


def test_sqs_counts_utf8_bytes_and_message_attributes(stack):
    # GIVEN a dead-letter queue (MaximumMessageSize as AWS defaults it)
    sqs = stack.client("sqs")
    url = stack.outputs["ScoreDeadLetterQueueUrl"]

    # WHEN a body of 140,000 two-byte characters (280,000 bytes) is sent, and a body of exactly
    # 256 KiB, and 256 KiB less ten bytes with a 20-byte attribute
    too_long = error_of(sqs.send_message, QueueUrl=url, MessageBody="ż" * 140_000)
    sqs.send_message(QueueUrl=url, MessageBody="x" * (256 * KIB))
    with_attribute = error_of(
        sqs.send_message,
        QueueUrl=url,
        MessageBody="x" * (256 * KIB - 10),
        MessageAttributes={"reason": {"DataType": "String", "StringValue": "0123456789"}},
    )

    # THEN SQS's InvalidParameterValue refuses what is over 256 KiB; exactly 256 KiB goes
    assert too_long[0] == with_attribute[0] == "InvalidParameterValue"
    assert "Message must be shorter than 262144 bytes" in too_long[1]


def test_sqs_honours_a_queue_maximum_message_size(stack):
    # GIVEN a queue that takes at most 2 KiB
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "2048"})["QueueUrl"]

    # THEN 2 KiB of two-byte characters (1,024 characters, 2,048 bytes) go, one more byte does not
    sqs.send_message(QueueUrl=url, MessageBody="ż" * 1024)
    assert error_of(sqs.send_message, QueueUrl=url, MessageBody="ż" * 1024 + "x")[0] == "InvalidParameterValue"


# ----- SNS --------------------------------------------------------------------------------------


def test_sns_publish_refuses_over_256_kib_of_utf8_message_and_attributes(stack):
    sns = stack.client("sns")
    topic = stack.outputs["AlertsTopicArn"]
    attributes = {"store": {"DataType": "String", "StringValue": "S-001"}}

    # WHEN 140,000 two-byte characters are published, and 256 KiB of text with an attribute
    multibyte = error_of(sns.publish, TopicArn=topic, Message="ż" * 140_000)
    with_attribute = error_of(sns.publish, TopicArn=topic, Message="x" * (256 * KIB - 5), MessageAttributes=attributes)

    # THEN both fail as SNS fails them; 256 KiB without attributes goes
    assert multibyte == with_attribute == ("InvalidParameter", "Invalid parameter: Message too long")
    sns.publish(TopicArn=topic, Message="x" * (256 * KIB))


# ----- DynamoDB ---------------------------------------------------------------------------------

# 300,000 bytes of text and 60,000 booleans in a list: moto sizes it 360,000 bytes, AWS's rule
# (3 bytes per list, 1 per element) 420,011.
BIG_TEXT = {"S": "x" * 300_000}
FLAGS = {"L": [{"BOOL": True}] * 60_000}
TOO_LARGE = "Item size has exceeded the maximum allowed size"


def key(name: str) -> dict:
    return {"pk": {"S": f"LIMIT#{name}"}, "sk": {"S": "X"}}


def test_dynamodb_sizes_items_by_aws_rule():
    assert moto_limits.dynamodb_item_size({"text": BIG_TEXT, "flags": FLAGS}) == 4 + 300_000 + 5 + 3 + 120_000
    assert moto_limits.dynamodb_item_size({"n": {"N": "-0012.3400"}, "m": {"M": {"a": {"NULL": True}}}}) == (
        1 + 3 + 1 + 3 + 1 + 1 + 1
    )


def test_put_item_and_batch_write_item_refuse_an_item_over_400_kb(stack, table):
    ddb = stack.client("dynamodb")
    item = {**key("put"), "text": BIG_TEXT, "flags": FLAGS}

    # WHEN the item is put, and batch-written after a small item
    put = error_of(ddb.put_item, TableName=table.name, Item=item)
    batch = error_of(
        ddb.batch_write_item,
        RequestItems={table.name: [{"PutRequest": {"Item": key("small")}}, {"PutRequest": {"Item": item}}]},
    )

    # THEN both are refused whole: nothing was written
    assert put == batch == ("ValidationException", TOO_LARGE)
    assert table.get("LIMIT#put", "X") is None
    assert table.get("LIMIT#small", "X") is None


def test_update_item_refuses_a_result_over_400_kb_and_leaves_the_item_and_stream_as_they_were(stack, table):
    # GIVEN an item of 300,000 bytes
    ddb = stack.client("dynamodb")
    ddb.put_item(TableName=table.name, Item={**key("update"), "text": BIG_TEXT})
    before = table.get("LIMIT#update", "X")
    shard = stack.client("dynamodbstreams")
    arn = stack.outputs["TableStreamArn"]
    shard_id = shard.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

    def records() -> int:
        iterator = shard.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")
        return len(shard.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"])

    streamed = records()

    # WHEN an update would add 120,003 bytes of list to it
    refused = error_of(
        ddb.update_item,
        TableName=table.name,
        Key=key("update"),
        UpdateExpression="SET flags = :f",
        ExpressionAttributeValues={":f": FLAGS},
    )

    # THEN it is refused, the item is unchanged and no stream record was written
    assert refused == ("ValidationException", "Item size to update has exceeded the maximum allowed size")
    assert table.get("LIMIT#update", "X") == before
    assert records() == streamed


def test_a_transaction_with_an_item_over_400_kb_writes_nothing(stack, table):
    ddb = stack.client("dynamodb")
    items = [
        {"Put": {"TableName": table.name, "Item": key("first")}},
        {"Put": {"TableName": table.name, "Item": {**key("large"), "text": BIG_TEXT, "flags": FLAGS}}},
    ]

    assert error_of(ddb.transact_write_items, TransactItems=items)[0] == "ValidationException"
    assert table.get("LIMIT#first", "X") is None


def test_transactions_take_at_most_100_items(stack, table):
    ddb = stack.client("dynamodb")
    puts = [{"Put": {"TableName": table.name, "Item": key(f"t{i}")}} for i in range(101)]
    gets = [{"Get": {"TableName": table.name, "Key": key(f"t{i}")}} for i in range(101)]

    assert error_of(ddb.transact_write_items, TransactItems=puts)[0] == "ValidationException"
    assert error_of(ddb.transact_get_items, TransactItems=gets)[0] == "ValidationException"
    ddb.transact_write_items(TransactItems=puts[:100])
    assert len(ddb.transact_get_items(TransactItems=gets[:100])["Responses"]) == 100
