"""Parking loses nothing, whatever the size: compact JSON in the dead-letter queue, or the body in the
parking bucket and a pointer in the queue (the local stack refuses SQS messages over 256 KiB)."""

from __future__ import annotations

import json

import boto3

from npsloop.adapters.parking_queue import MAX_MESSAGE_BYTES, ParkingQueue
from tests.stack_support import sent_emails, tokens_in


def parked(stack, output: str) -> list[dict]:
    sqs = stack.client("sqs")
    found = sqs.receive_message(
        QueueUrl=stack.outputs[output], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    return [
        {"body": m["Body"], **{name: a["StringValue"] for name, a in m.get("MessageAttributes", {}).items()}}
        for m in found
    ]


def test_an_event_over_256_kib_only_with_json_spaces_is_parked_whole_in_the_queue(stack):
    # GIVEN an event of many small fields: 256 KiB less 4 KiB as compact JSON, over 256 KiB with spaces
    event = {f"f{i:05d}": "v" * 6 for i in range(14_000)}
    compact = json.dumps(event, separators=(",", ":"))
    assert len(compact) < MAX_MESSAGE_BYTES - 4 * 1024 < MAX_MESSAGE_BYTES < len(json.dumps(event))
    parking = ParkingQueue(
        stack.outputs["ScoreDeadLetterQueueUrl"], parked_by="npsloop-score", bucket=stack.physical_id("ParkingBucket")
    )

    # WHEN it is parked
    parking.park(event, "not a valid response")

    # THEN the queue holds it, whole, with its reason, and nothing went to the bucket
    (message,) = parked(stack, "ScoreDeadLetterQueueUrl")
    assert json.loads(message["body"]) == event
    assert message["reason"] == "not a valid response"
    assert "body_location" not in message
    assert boto3.client("s3").list_objects_v2(Bucket=stack.physical_id("ParkingBucket"))["KeyCount"] == 0


def test_a_response_changed_to_a_260_kb_comment_is_parked_by_alert_with_its_body_in_the_bucket(stack, table, event):
    # GIVEN an answered survey whose response item someone rewrote with a 260 KB comment (the
    # respond page takes 2,000 characters; 260,000 bytes still fit a DynamoDB item)
    stack.invoke("InviteFunction", event("order-completed.json"))
    links, _ = tokens_in(sent_emails(stack)[0])
    answer = event("respond-post.json", token=links[2])
    stack.invoke("RespondFunction", answer)
    stack.drain()
    (response,) = table.items("response")
    comment = "Zażółć gęślą jaźń. " * 10_000
    table.client.update_item(
        TableName=table.name,
        Key={"pk": response["pk"], "sk": response["sk"]},
        UpdateExpression="SET #c = :c",
        ExpressionAttributeNames={"#c": "comment"},
        ExpressionAttributeValues={":c": {"S": comment}},
    )

    # WHEN the stream consumers see the change
    stack.drain()

    # THEN the alert function parked the record: the queue message points to the bucket with the reason
    messages = [m for m in parked(stack, "AlertDeadLetterQueueUrl") if "body_location" in m]
    (message,) = messages
    pointer = json.loads(message["body"])
    bucket, key = pointer["parked_body"]["bucket"], pointer["parked_body"]["key"]
    assert bucket == stack.physical_id("ParkingBucket")
    assert key.startswith("parked/alert/") and key.endswith(".json")
    assert message["body_location"] == f"s3://{bucket}/{key}"
    assert pointer["reason"] == message["reason"]
    assert message["reason"].startswith("not a valid response: comment")
    assert "SQS message" in pointer["why_in_s3"]
    # AND the bucket holds the whole stream record: nothing was lost
    record = json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert record["dynamodb"]["NewImage"]["comment"]["S"] == comment
    assert pointer["parked_body"]["bytes"] == len(json.dumps(record, separators=(",", ":")).encode())
