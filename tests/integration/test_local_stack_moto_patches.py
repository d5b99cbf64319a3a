"""The local stack's speed patches keep moto's semantics, and its event sources scale with what is new.

Each equivalence test runs the same requests with moto's own code and with the patch
(npsloop_local.moto_query / moto_serialize / moto_transactions) and compares the answers; the
stream tests use tests/fixtures/local_stack_streams/ (three consumers of one stream, a 15-minute
schedule) with the toy handlers of tests/fixtures/local_stack/.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from npsloop.clock import ManualClock
from npsloop_local import moto_query, moto_serialize, moto_transactions
from npsloop_local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "local_stack" / "template.yaml"
STREAMS = ROOT / "tests" / "fixtures" / "local_stack_streams" / "template.yaml"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def stack(clock: ManualClock, tmp_path: Path) -> Iterator[LocalStack]:
    with LocalStack(FIXTURE, clock=clock, outbox_dir=tmp_path / "outbox") as running:
        yield running


@pytest.fixture
def streams(clock: ManualClock, tmp_path: Path) -> Iterator[LocalStack]:
    with LocalStack(STREAMS, clock=clock, outbox_dir=tmp_path / "outbox") as running:
        yield running


@pytest.fixture
def windowed(clock: ManualClock, tmp_path: Path) -> Iterator[LocalStack]:
    """The streams fixture started as the demo starts it: batching windows waited out by the clock."""
    with LocalStack(STREAMS, clock=clock, outbox_dir=tmp_path / "outbox", batching_windows=True) as running:
        yield running


def both_ways(module: Any, action: Callable[[], Any]) -> tuple[Any, Any]:
    """``action()`` with moto's own code, then with the patch (re-installed afterwards either way)."""
    module.uninstall()
    try:
        plain = action()
    finally:
        module.install()
    return plain, action()


def without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def every_page(ddb: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    """Each page of a Query, LastEvaluatedKey to ExclusiveStartKey, to the end."""
    request, found = dict(request), []
    while True:
        page = without_metadata(ddb.query(**request))
        found.append(page)
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


EVERY_TYPE = {
    "s": {"S": "zażółć"},
    "empty": {"S": ""},
    "n": {"N": "-12.50"},
    "b": {"B": b"\x00\x01binary"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"x", b"y"]},
    "m": {"M": {"inner": {"L": [{"S": "x"}, {"N": "1"}, {"NULL": True}, {"M": {}}]}, "flag": {"BOOL": False}}},
    "l": {"L": []},
    "null": {"NULL": True},
    "bool": {"BOOL": True},
}


def seed(stack: LocalStack) -> tuple[Any, str]:
    ddb = stack.client("dynamodb")
    table = stack.physical_id("Table")
    for i in range(30):
        item = {
            "pk": {"S": f"P#{i % 3}"},
            "sk": {"S": f"S#{i:03d}"},
            "gsi1pk": {"S": f"G#{i % 4}"},
            "n": {"N": str(i)},
            **({"kind": {"S": "odd"}} if i % 2 else {}),
        }
        ddb.put_item(TableName=table, Item=item)
    ddb.put_item(TableName=table, Item={"pk": {"S": "ALL"}, "sk": {"S": "TYPES"}, "gsi1pk": {"S": "G#T"}, **EVERY_TYPE})
    return ddb, table


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P#1"}}},
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":p": {"S": "P#0"}, ":a": {"S": "S#003"}, ":b": {"S": "S#021"}},
        "ScanIndexForward": False,
    },
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "nothing"}}},
    {"IndexName": "gsi1", "KeyConditionExpression": "gsi1pk = :g", "ExpressionAttributeValues": {":g": {"S": "G#2"}}},
    {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :g AND begins_with(sk, :s)",
        "FilterExpression": "attribute_exists(kind)",
        "ExpressionAttributeValues": {":g": {"S": "G#1"}, ":s": {"S": "S#01"}},
    },
    {"IndexName": "gsi1", "KeyConditionExpression": "gsi1pk = :g", "ExpressionAttributeValues": {":g": {"S": "G#T"}}},
    {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :g",
        "ExpressionAttributeValues": {":g": {"S": "G#3"}},
        "Select": "COUNT",
    },
    {
        "KeyConditionExpression": "pk = :p AND sk < :b",
        "ExpressionAttributeValues": {":p": {"S": "P#2"}, ":b": {"S": "S#014"}},
    },
    {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :g AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":g": {"S": "G#0"}, ":a": {"S": "S#004"}, ":b": {"S": "S#020"}},
        "ScanIndexForward": False,
        "Select": "COUNT",
    },
]

# Range conditions a page at a time: the patch drops what is out of range before moto pages.
RANGED_PAGES: list[dict[str, Any]] = [
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":p": {"S": "P#1"}, ":a": {"S": "S#004"}, ":b": {"S": "S#025"}},
    },
    {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :g AND sk >= :a",
        "ExpressionAttributeValues": {":g": {"S": "G#1"}, ":a": {"S": "S#009"}},
        "ScanIndexForward": False,
    },
    {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :g AND begins_with(sk, :s)",
        "ExpressionAttributeValues": {":g": {"S": "G#2"}, ":s": {"S": "S#01"}},
    },
]


@pytest.mark.parametrize("request_", QUERIES, ids=range(len(QUERIES)))
def test_query_on_the_table_and_on_an_index_answers_as_moto_does(stack, request_):
    # GIVEN items in three partitions and four index partitions
    ddb, table = seed(stack)

    # WHEN the same query runs with moto's Query and with the patch
    plain, patched = both_ways(moto_query, lambda: without_metadata(ddb.query(TableName=table, **request_)))

    # THEN the answers are identical (items, order, counts)
    assert patched == plain


def test_paginated_index_queries_give_the_same_pages(stack):
    # GIVEN an index partition with eight items
    ddb, table = seed(stack)

    request = {
        "TableName": table,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :g",
        "ExpressionAttributeValues": {":g": {"S": "G#0"}},
        "Limit": 3,
    }

    # WHEN it is read three items at a time, with and without the patch
    plain, patched = both_ways(moto_query, lambda: every_page(ddb, request))

    # THEN the pages and their LastEvaluatedKeys agree
    assert patched == plain
    assert len(plain) == 3


@pytest.mark.parametrize("request_", RANGED_PAGES, ids=range(len(RANGED_PAGES)))
def test_range_conditions_give_the_same_pages(stack, request_):
    # GIVEN items in three partitions and four index partitions
    ddb, table = seed(stack)

    # WHEN a range of a partition is read two items at a time, with and without the patch
    plain, patched = both_ways(moto_query, lambda: every_page(ddb, {"TableName": table, "Limit": 2, **request_}))

    # THEN the pages, their counts and their LastEvaluatedKeys agree
    assert patched == plain
    assert len(plain) >= 2 and any(page["Items"] for page in plain)


def test_index_queries_follow_every_kind_of_change_to_the_indexed_attribute(stack):
    # GIVEN items the patch has already indexed (one index query answered)
    ddb, table = seed(stack)
    query = {
        "TableName": table,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :g",
        "ExpressionAttributeValues": {":g": {"S": "G#1"}},
    }
    assert len(ddb.query(**query)["Items"]) == 8

    # WHEN items move between index partitions by update, put, delete, batch write, a transaction,
    # a removed attribute and a cancelled transaction
    key = lambda i: {"pk": {"S": f"P#{i % 3}"}, "sk": {"S": f"S#{i:03d}"}}  # noqa: E731
    ddb.update_item(
        TableName=table, Key=key(2), UpdateExpression="SET gsi1pk = :g", ExpressionAttributeValues={":g": {"S": "G#1"}}
    )
    ddb.put_item(TableName=table, Item={**key(40), "gsi1pk": {"S": "G#1"}})
    ddb.delete_item(TableName=table, Key=key(1))
    ddb.update_item(TableName=table, Key=key(5), UpdateExpression="REMOVE gsi1pk")
    ddb.batch_write_item(
        RequestItems={
            table: [{"PutRequest": {"Item": {**key(41), "gsi1pk": {"S": "G#1"}}}}, {"DeleteRequest": {"Key": key(9)}}]
        }
    )
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {**key(42), "gsi1pk": {"S": "G#1"}}}},
            {
                "Update": {
                    "TableName": table,
                    "Key": key(13),
                    "UpdateExpression": "SET gsi1pk = :g",
                    "ExpressionAttributeValues": {":g": {"S": "G#0"}},
                }
            },
        ]
    )
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**key(43), "gsi1pk": {"S": "G#1"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": key(17),
                        "UpdateExpression": "SET gsi1pk = :g",
                        "ExpressionAttributeValues": {":g": {"S": "G#0"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    # THEN the index kept up: its answers (read first) equal moto's own query's, in both partitions
    requests = [{**query, "ExpressionAttributeValues": {":g": {"S": p}}} for p in ("G#1", "G#0")]
    patched = [without_metadata(ddb.query(**request)) for request in requests]
    moto_query.uninstall()
    try:
        plain = [without_metadata(ddb.query(**request)) for request in requests]
    finally:
        moto_query.install()
    assert patched == plain
    moved = {item["sk"]["S"] for item in ddb.query(**query)["Items"]}
    assert {"S#002", "S#040", "S#041", "S#042", "S#017"} <= moved
    assert not {"S#001", "S#005", "S#009", "S#013", "S#043"} & moved


def test_every_attribute_type_serialises_as_moto_does(stack):
    # GIVEN an item holding every DynamoDB type, nested
    ddb, table = seed(stack)
    key = {"pk": {"S": "ALL"}, "sk": {"S": "TYPES"}}

    # WHEN it is read back by GetItem, Query and the stream, with moto's serializer and the patch
    def read() -> tuple[Any, ...]:
        updated = ddb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET touched = :t",
            ExpressionAttributeValues={":t": {"N": "1"}},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        item = ddb.get_item(TableName=table, Key=key)["Item"]
        queried = ddb.query(
            TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "ALL"}}
        )["Items"]
        streams = stack.client("dynamodbstreams")
        arn = stack.attribute("Table", "StreamArn")
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        records = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
        images = [(r["eventName"], r["dynamodb"].get("NewImage"), r["dynamodb"].get("OldImage")) for r in records]
        return item, queried, updated, images

    plain, patched = both_ways(moto_serialize, read)

    # THEN both agree, and the values are what was written
    assert patched[:3] == plain[:3]
    assert [image[1:] for image in patched[3][:31]] == [image[1:] for image in plain[3][:31]]
    assert patched[0]["b"] == {"B": b"\x00\x01binary"}
    assert patched[0]["m"] == EVERY_TYPE["m"]
    assert set(patched[0]["ss"]["SS"]) == {"a", "b"}


def _without_pk(entry: Any) -> Any:
    if isinstance(entry, dict):
        return {key: value for key, value in entry.items() if key != "pk"}
    return (entry[0], _without_pk(entry[1]))


def test_conditions_add_and_failed_conditions_answer_as_moto_does(stack):
    # GIVEN a counter item
    ddb, table = seed(stack)
    key = {"pk": {"S": "COUNTER"}, "sk": {"S": "C"}}

    def story(suffix: str) -> list[Any]:
        k = {"pk": {"S": f"COUNTER{suffix}"}, "sk": {"S": "C"}}
        out = []
        for _ in range(3):
            out.append(
                ddb.update_item(
                    TableName=table,
                    Key=k,
                    UpdateExpression="ADD n :one, tags :t",
                    ExpressionAttributeValues={":one": {"N": "1"}, ":t": {"SS": ["x"]}},
                    ReturnValues="ALL_NEW",
                )["Attributes"]
            )
        try:
            ddb.update_item(
                TableName=table,
                Key=k,
                UpdateExpression="SET n = :z",
                ConditionExpression="n < :limit",
                ExpressionAttributeValues={":z": {"N": "0"}, ":limit": {"N": "2"}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            out.append((error.response["Error"]["Code"], error.response.get("Item")))
        return [_without_pk(entry) for entry in out]

    # WHEN the same story runs without and with every patch
    for module in (moto_query, moto_serialize, moto_transactions):
        module.uninstall()
    try:
        plain = story("-plain")
    finally:
        for module in (moto_query, moto_serialize, moto_transactions):
            module.install()
    patched = story("-patched")

    # THEN the values and the failed condition (with the old item) are the same
    assert patched == plain
    assert plain[-1][0] == "ConditionalCheckFailedException"
    assert key  # the story used its own keys


def test_a_cancelled_transaction_gives_the_same_reasons_and_leaves_no_trace(stack):
    # GIVEN an existing item that a transaction's condition will refuse
    ddb, table = seed(stack)
    streams_before = len(stream_records(stack))

    def cancelled(suffix: str) -> tuple[Any, Any, Any]:
        items = [
            {"Put": {"TableName": table, "Item": {"pk": {"S": f"NEW{suffix}"}, "sk": {"S": "x"}}}},
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": "P#0"}, "sk": {"S": "S#000"}},
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": {"pk": {"S": "P#1"}, "sk": {"S": "S#001"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        with pytest.raises(ClientError) as error:
            ddb.transact_write_items(TransactItems=items)
        reasons = error.value.response.get("CancellationReasons")
        new = ddb.get_item(TableName=table, Key={"pk": {"S": f"NEW{suffix}"}, "sk": {"S": "x"}}).get("Item")
        counter = ddb.get_item(TableName=table, Key={"pk": {"S": "P#0"}, "sk": {"S": "S#000"}})["Item"]["n"]
        return reasons, new, counter

    # WHEN it runs with moto's TransactWriteItems and with the patch
    plain, patched = both_ways(moto_transactions, lambda: cancelled("-" + str(len(stream_records(stack)))))

    # THEN the same reasons come back, nothing was written, and no stream record appeared
    assert patched == plain
    assert [reason["Code"] for reason in plain[0]] == ["None", "None", "ConditionalCheckFailed"]
    assert (plain[1], plain[2]) == (None, {"N": "0"})
    assert len(stream_records(stack)) == streams_before


def stream_records(stack: LocalStack) -> list[dict[str, Any]]:
    client = stack.client("dynamodbstreams")
    arn = stack.attribute("Table", "StreamArn")
    shard = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return client.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]


# ---------------------------------------------------------------------------------------------
# Three consumers of one stream; schedules on a manual clock
# ---------------------------------------------------------------------------------------------


def put(stack: LocalStack, pk: str, entity: str, **extra: str) -> None:
    item = {"pk": {"S": pk}, "sk": {"S": "X"}, "entity": {"S": entity}, **{k: {"S": v} for k, v in extra.items()}}
    stack.client("dynamodb").put_item(TableName=stack.physical_id("Table"), Item=item)


def keys_seen(stack: LocalStack, function: str) -> list[tuple[str, str]]:
    batches = stack.handler_module(function).CALLS
    return [(record["eventName"], record["dynamodb"]["Keys"]["pk"]["S"]) for batch in batches for record in batch]


def test_three_consumers_of_one_stream_keep_their_own_checkpoints_filters_and_batches(streams):
    # GIVEN responses and an invitation written, one response changed
    put(streams, "R1", "response")
    put(streams, "I1", "invitation")
    put(streams, "R2", "response")
    put(streams, "R3", "response")
    put(streams, "R1", "response", score="9")
    streams.drain()

    # THEN each consumer saw exactly its records, in stream order, in batches of its own size
    assert keys_seen(streams, "ResponsesFunction") == [
        ("INSERT", "R1"),
        ("INSERT", "R2"),
        ("INSERT", "R3"),
        ("MODIFY", "R1"),
    ]
    assert keys_seen(streams, "InsertsFunction") == [("INSERT", "R1"), ("INSERT", "R2"), ("INSERT", "R3")]
    assert [len(batch) for batch in streams.handler_module("InsertsFunction").CALLS] == [2, 1]
    assert keys_seen(streams, "EverythingFunction") == [
        ("INSERT", "R1"),
        ("INSERT", "I1"),
        ("INSERT", "R2"),
        ("INSERT", "R3"),
        ("MODIFY", "R1"),
    ]

    # WHEN one more record arrives and the stack drains again
    put(streams, "I2", "invitation")
    streams.drain()

    # THEN only the consumer whose filter takes it is invoked, from its own checkpoint
    assert len(streams.handler_module("ResponsesFunction").CALLS) == 1
    assert keys_seen(streams, "EverythingFunction")[-1] == ("INSERT", "I2")
    assert len(keys_seen(streams, "EverythingFunction")) == 6


def test_an_idle_drain_asks_moto_nothing(streams):
    # GIVEN a stack whose consumers have read everything
    put(streams, "R1", "response")
    streams.drain()
    requests = []
    streams.client("dynamodbstreams").meta.events.register("before-call", lambda **kw: requests.append(kw))

    # WHEN it drains with nothing new
    streams.drain()
    streams.drain()

    # THEN no stream API call was made (the consumers peeked at the shards' last sequence numbers)
    assert requests == []


def test_a_day_of_manual_clock_fires_a_15_minute_schedule_once_per_drain(streams, clock):
    # GIVEN a rate(15 minutes) schedule
    sweeps = streams.handler_module("SweepFunction").CALLS

    # WHEN the demo moves the clock a whole day in one step and drains
    clock.advance(timedelta(days=1))
    streams.drain()

    # THEN the 96 missed occurrences fire once, for the first one; the next is 15 minutes after now
    assert len(sweeps) == 1
    assert sweeps[0]["time"] == "2026-03-02T09:15:00Z"
    (schedule,) = streams.dispatcher.schedules
    assert schedule.next_due == START + timedelta(days=1, minutes=15)

    # AND a drain without time passing fires nothing more, while 15 minutes later fires again
    streams.drain()
    assert len(sweeps) == 1
    clock.advance(timedelta(minutes=15))
    streams.drain()
    assert len(sweeps) == 2


def test_binary_values_reach_stream_consumers_base64_encoded(streams):
    # GIVEN a response item with a binary attribute
    streams.client("dynamodb").put_item(
        TableName=streams.physical_id("Table"),
        Item={"pk": {"S": "RB"}, "sk": {"S": "X"}, "entity": {"S": "response"}, "blob": {"B": b"\x00\xff"}},
    )
    streams.drain()

    # THEN the consumer gets it as Lambda delivers binary: base64 text
    (batch,) = streams.handler_module("ResponsesFunction").CALLS
    assert batch[0]["dynamodb"]["NewImage"]["blob"] == {"B": base64.b64encode(b"\x00\xff").decode()}


def test_records_read_from_the_shard_equal_records_read_through_the_stream_api(streams, clock):
    # GIVEN inserts, changes and removals of items holding every attribute type, at different times
    ddb, table = streams.client("dynamodb"), streams.physical_id("Table")
    ddb.put_item(TableName=table, Item={"pk": {"S": "T"}, "sk": {"S": "1"}, "entity": {"S": "response"}, **EVERY_TYPE})
    clock.advance(timedelta(seconds=90))
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "T"}, "sk": {"S": "1"}},
        UpdateExpression="SET n = :n, b = :b REMOVE ss",
        ExpressionAttributeValues={":n": {"N": "7"}, ":b": {"B": b"\xff"}},
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "T"}, "sk": {"S": "2"}, "entity": {"S": "invitation"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "T"}, "sk": {"S": "1"}})
    consumer = streams.dispatcher.streams[0]
    shard_id = next(iter(consumer.peek() or {}))

    # WHEN a consumer reads them from moto's shard and through GetShardIterator + GetRecords
    requests: list[Any] = []
    streams.client("dynamodbstreams").meta.events.register("before-call", lambda **kw: requests.append(kw))
    direct = consumer._new_records(shard_id)
    asked = len(requests)
    reader, consumer.read = consumer.read, None
    try:
        through_api = consumer._new_records(shard_id)
    finally:
        consumer.read = reader

    # THEN Lambda gets the same records either way (binary as base64, times in epoch seconds)
    assert [r["eventName"] for r in direct] == ["INSERT", "MODIFY", "INSERT", "REMOVE"]
    assert direct == through_api
    assert asked == 0
    assert len(requests) >= 2


def test_with_batching_windows_a_consumer_waits_for_its_window_by_the_clock(windowed, clock):
    # GIVEN consumers with windows of 5 s (responses) and 60 s (everything), and none (inserts)
    put(windowed, "R1", "response")
    put(windowed, "I1", "invitation")

    # WHEN the windowed drains at once
    windowed.drain()

    # THEN only the consumer without a window was invoked
    assert keys_seen(windowed, "InsertsFunction") == [("INSERT", "R1")]
    assert windowed.handler_module("ResponsesFunction").CALLS == []
    assert windowed.handler_module("EverythingFunction").CALLS == []

    # WHEN 5 s pass and more arrives, then 60 s
    clock.advance(timedelta(seconds=5))
    put(windowed, "R2", "response")
    windowed.drain()
    after_five = keys_seen(windowed, "ResponsesFunction")
    everything_at_five = list(windowed.handler_module("EverythingFunction").CALLS)
    clock.advance(timedelta(seconds=55))
    windowed.drain()

    # THEN each got one batch with everything gathered in its window
    assert after_five == [("INSERT", "R1"), ("INSERT", "R2")]
    assert everything_at_five == []
    assert [len(batch) for batch in windowed.handler_module("EverythingFunction").CALLS] == [3]


def test_with_batching_windows_a_full_batch_does_not_wait(windowed):
    # GIVEN a full batch of responses (BatchSize 100) waiting for the 5 s consumer
    for n in range(100):
        put(windowed, f"R{n}", "response")

    # WHEN the windowed drains with no time passing
    windowed.drain()

    # THEN the full batch went at once
    assert [len(batch) for batch in windowed.handler_module("ResponsesFunction").CALLS] == [100]


def test_with_batching_windows_a_late_drain_delivers_what_waited_as_of_the_windows_end(windowed, clock):
    # GIVEN a record waiting out the 60 s window of a consumer (stream retention: 24 h)
    put(windowed, "I1", "invitation")
    windowed.drain()
    assert windowed.handler_module("EverythingFunction").CALLS == []

    # WHEN the next drain comes a day and an hour later (the demo's clock jumps)
    clock.advance(timedelta(hours=25))
    windowed.drain()

    # THEN the record is delivered: Lambda's poller took it when the window ended, at age 60 s
    assert keys_seen(windowed, "EverythingFunction") == [("INSERT", "I1")]


def window_calls(stack: LocalStack) -> list[tuple[bool, list[str], dict[str, Any]]]:
    """(final?, the records' keys, the state received) of each invocation of the windowed consumer."""
    return [
        (event["isFinalInvokeForWindow"], [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]], event["state"])
        for event in stack.handler_module("WindowFunction").INVOCATIONS
    ]


def test_a_tumbling_window_carries_the_state_between_batches_and_ends_with_a_final_invocation(windowed, clock):
    # GIVEN three records in the 09:00-09:15 window (batches of 2, a 60 s batching window)
    for key in ("W1", "W2", "W1"):
        put(windowed, key, "windowed")

    # WHEN the batching window passes, then the tumbling window's end
    clock.advance(timedelta(seconds=60))
    windowed.drain()
    before_the_end = window_calls(windowed)
    clock.set(START + timedelta(minutes=15))
    windowed.drain()

    # THEN two batches carried the state along, and the final invocation got it, with no records
    assert before_the_end == [(False, ["W1", "W2"], {}), (False, ["W1"], {"W1": 1, "W2": 1})]
    assert window_calls(windowed)[2] == (True, [], {"W1": 2, "W2": 1})
    (event,) = [e for e in windowed.handler_module("WindowFunction").INVOCATIONS if e["isFinalInvokeForWindow"]]
    assert event["window"] == {"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T09:15:00Z"}
    table = windowed.client("dynamodb").describe_table(TableName=windowed.physical_id("Table"))["Table"]
    assert event["eventSourceARN"] == table["LatestStreamArn"]
    (shard,) = windowed.client("dynamodbstreams").describe_stream(StreamArn=table["LatestStreamArn"])[
        "StreamDescription"
    ]["Shards"]
    assert event["shardId"] == shard["ShardId"]
    assert event["isWindowTerminatedEarly"] is False

    # AND a record of the next window starts afresh
    put(windowed, "W3", "windowed")
    clock.advance(timedelta(minutes=16))
    windowed.drain()
    assert window_calls(windowed)[3:] == [(False, ["W3"], {}), (True, [], {"W3": 1})]


def test_records_of_two_windows_delivered_at_once_end_the_first_window_before_the_second(windowed, clock):
    put(windowed, "W1", "windowed")
    clock.set(START + timedelta(minutes=20))
    put(windowed, "W2", "windowed")

    clock.set(START + timedelta(hours=1))
    windowed.drain()

    assert window_calls(windowed) == [
        (False, ["W1"], {}),
        (True, [], {"W1": 1}),
        (False, ["W2"], {}),
        (True, [], {"W2": 1}),
    ]


@pytest.mark.parametrize("mode", ["no-state", "huge"])
def test_a_window_reply_without_a_state_or_with_one_over_a_megabyte_fails_and_is_retried_with_the_state_before(
    streams, mode
):
    put(streams, "W1", "windowed")
    streams.drain()
    put(streams, "W2", "windowed", mode=mode)
    put(streams, "W3", "windowed")

    streams.drain()  # without batching windows, a drain ends the window it delivered

    calls = window_calls(streams)
    assert calls[:2] == [(False, ["W1"], {}), (True, [], {"W1": 1})]
    assert calls[2:] == [
        (False, ["W2", "W3"], {}),  # refused: Lambda takes it as a failed invocation
        (False, ["W2", "W3"], {}),  # retried with the state from before it
        (True, [], {"W2": 1, "W3": 1}),
    ]
