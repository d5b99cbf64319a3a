"""The score handler on the table's stream under moto: aggregates, replay, poison records, reads."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
from npsloop.domain.programs import load_programs
from npsloop.services.scores import ScoreQuery, ScoresService
from npsloop_local.streams import lambda_stream_record
from tests.fakes_score import image, record, response
from tests.stream_records import batch, redeliver

DAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MARK = re.compile(r"^j[0-9a-f]{16}$")


def put_responses(stack, table, responses):
    client = stack.client("dynamodb")
    for item in responses:
        client.put_item(TableName=table.name, Item=image(item))


def hundred(offset: int = 0, days: int = 1):
    return [
        response(
            offset + i,
            7 + i % 4,  # no detractors: the alert function, also on the stream, has nothing to do
            store=f"S{i % 4:02d}",
            region="north" if i % 2 else "south",
            comment="ok" if i % 10 == 0 else None,
            created_at=DAY - timedelta(days=i % days),
        )
        for i in range(100)
    ]


def counts(table, dimension="all", value="all", day="2026-11-20"):
    item = table.get(f"AGG#post-purchase-nps#{dimension}#{day[:7]}", f"{day}#{value}")
    if item is None:
        return None
    return {k: int(v["N"]) for k, v in item.items() if "N" in v and k != "ttl" and not MARK.match(k)}


def response_records(stack):
    """Every response record of the table's stream, in the shape Lambda delivers it."""
    streams = stack.client("dynamodbstreams")
    arn = stack.attribute("Table", "StreamArn")
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        page = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)
        records += [lambda_stream_record(r, arn, stack.region) for r in page["Records"]]
    return [r for r in records if _entity(r) == "response"]


def _entity(record):
    image = record["dynamodb"].get("NewImage") or record["dynamodb"].get("OldImage") or {}
    return image.get("entity", {}).get("S")


def test_a_hundred_responses_become_exact_aggregates_in_one_batch(stack, table):
    put_responses(stack, table, hundred())

    stack.drain()

    overall = counts(table)
    assert overall["n"] == 100
    assert {k: v for k, v in overall.items() if k.startswith("c") and k != "commented"} == {
        "c7": 25,
        "c8": 25,
        "c9": 25,
        "c10": 25,
    }
    assert overall["commented"] == 10
    assert counts(table, "store", "S01")["n"] == 25
    assert counts(table, "region", "north")["n"] == 50
    assert counts(table, "channel", "web")["n"] == 100
    (aggregate,) = [i for i in table.items("aggregate") if "#all#" in i["pk"]["S"]]
    assert (aggregate["pk"]["S"], aggregate["sk"]["S"]) == ("AGG#post-purchase-nps#all#2026-11", "2026-11-20#all")
    # one window for the hundred answers, written as one chunk of its 8 keys; the ten comments' analyses
    # (issue 12) come back as MODIFY records in a window of their own, which adds their themes to 5 keys
    assert sorted(int(j["records"]["N"]) for j in table.items("aggregate_journal")) == [5, 8]
    assert len(table.items("aggregate")) == 1 + 4 + 2 + 1  # one item per key: the batch coalesced


def test_the_same_batch_delivered_again_does_not_count_twice(stack, table):
    put_responses(stack, table, hundred())
    stack.drain()
    before = counts(table)

    again = redeliver(stack, "ScoreFunction", response_records(stack))

    assert [reply["batchItemFailures"] for reply in again] == [[], []]
    assert counts(table) == before


def test_days_of_two_months_land_in_two_partitions_and_a_replay_counts_nothing_twice(stack, table):
    # GIVEN answers either side of midnight UTC on 31 October (the last in Warsaw's 1 November already)
    october = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    answers = [
        response(i, 9 if i % 2 else 6, store="S01", created_at=october + timedelta(hours=i % 2)) for i in range(10)
    ]
    put_responses(stack, table, answers)
    stack.drain()
    before = {day: counts(table, "store", "S01", day) for day in ("2026-10-31", "2026-11-01")}

    # WHEN the same batch is delivered again
    again = redeliver(stack, "ScoreFunction", response_records(stack))

    # THEN each UTC day is in its month's partition, once, and the replay changed nothing
    assert [reply["batchItemFailures"] for reply in again] == [[], []]
    assert before == {"2026-10-31": {"n": 5, "c6": 5}, "2026-11-01": {"n": 5, "c9": 5}}
    assert {day: counts(table, "store", "S01", day) for day in before} == before
    stored = {(i["pk"]["S"], i["sk"]["S"]) for i in table.items("aggregate") if "#store#" in i["pk"]["S"]}
    assert stored == {
        ("AGG#post-purchase-nps#store#2026-10", "2026-10-31#S01"),
        ("AGG#post-purchase-nps#store#2026-11", "2026-11-01#S01"),
    }


def test_a_changed_score_moves_the_count_and_a_deleted_response_leaves(stack, table):
    first = response(1, 7)
    put_responses(stack, table, [first, response(2, 10)])
    stack.drain()

    put_responses(stack, table, [response(1, 9, version=2)])
    stack.drain()
    assert (counts(table)["n"], counts(table)["c7"], counts(table)["c9"]) == (2, 0, 1)

    stack.client("dynamodb").delete_item(
        TableName=table.name, Key={"pk": {"S": "INV#inv-00001"}, "sk": {"S": "RESPONSE"}}
    )
    stack.drain()
    assert (counts(table)["n"], counts(table)["c9"], counts(table)["c10"]) == (1, 0, 1)


def test_a_poison_response_is_parked_and_the_others_count(stack, table):
    batch = hundred()
    put_responses(stack, table, batch[:42])
    bad = image(batch[42])
    bad["score"] = {"S": "ten"}
    bad["comment"] = {"S": "private words"}
    stack.client("dynamodb").put_item(TableName=table.name, Item=bad)
    put_responses(stack, table, batch[43:])

    stack.drain()

    assert counts(table)["n"] == 99
    (parked,) = stack.dead_letters("ScoreDeadLetterQueue")
    assert parked["eventName"] == "INSERT"
    assert parked["dynamodb"]["Keys"]["pk"]["S"] == "INV#inv-00042"


def test_a_month_query_reads_the_same_items_at_100_and_at_1000_responses(stack, table, clock):
    # Batches handed straight to the function, as Lambda's poller would: the stream is not the point here.
    def score(responses):
        for start in range(0, len(responses), 100):
            chunk = responses[start : start + 100]
            assert stack.invoke("ScoreFunction", batch(*[record("INSERT", new=r) for r in chunk])) == {
                "batchItemFailures": []
            }

    reader = DynamoAggregates(table.name, client=stack.client("dynamodb"))
    service = ScoresService(programs=load_programs(), aggregates=reader, clock=clock)
    query = ScoreQuery.model_validate({"group_by": "store"})

    score(hundred(days=5))
    service.scores("post-purchase-nps", query)
    small = (reader.stats.queries, reader.stats.items)

    score([r for n in range(1, 10) for r in hundred(offset=n * 100, days=5)])
    reader.stats.queries = reader.stats.items = 0
    body = service.scores("post-purchase-nps", query)

    assert sum(g["periods"][0]["n"] for g in body["groups"]) == 1000
    # one Query per month read (November and October, the period it is compared with); stores x days
    assert (reader.stats.queries, reader.stats.items) == small == (2, 4 * 5)


def test_records_of_other_entities_are_filtered_out_before_the_function(stack, table):
    stack.client("dynamodb").put_item(
        TableName=table.name,
        Item={"pk": {"S": "CUST#c1"}, "sk": {"S": "PROFILE"}, "entity": {"S": "customer"}, "customer_id": {"S": "c1"}},
    )

    stack.drain()

    assert table.items("aggregate") == []
    assert stack.dead_letters("ScoreDeadLetterQueue") == []
