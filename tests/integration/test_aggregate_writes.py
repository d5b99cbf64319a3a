"""How the score adapter writes an aggregate: a past day's new key is put whole, anything else updated."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import boto3

from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
from npsloop.domain.aggregates import AggregateKey, Delta
from npsloop.domain.surveys import SurveyType
from npsloop_local.metering import AwsMeter

NOW = datetime.fromisoformat("2026-11-20T10:30:00+00:00")


def _delta(counts: dict[int, int]) -> Delta:
    return Delta(SurveyType.NPS, sum(counts.values()), counts)


def _counts(writer: DynamoAggregates, day: date) -> tuple[int, dict[int, int]]:
    (found,) = writer.read("post-purchase-nps", "store", day, day, value="KRK-02")
    return found.n, found.counts


def test_a_past_days_new_key_is_put_whole_and_later_chunks_and_replays_count_once(stack):
    meter = AwsMeter().install()
    client = boto3.client("dynamodb")
    writer = DynamoAggregates(stack.outputs["TableName"], client=client)
    past = AggregateKey("post-purchase-nps", "store", "KRK-02", date(2026, 3, 1))
    expires = NOW + timedelta(hours=7)
    try:
        # GIVEN a key of a day long past (history being imported): its first write is one conditional put
        meter.reset()
        assert writer.add("chunk-1", past, _delta({10: 2, 3: 1}), expires, NOW)
        assert meter.snapshot()[0] == {"dynamodb:PutItem": 1}

        # WHEN another chunk (a fresh container: it does not know the item) adds to it, and chunk 1 is replayed
        meter.reset()
        fresh = DynamoAggregates(stack.outputs["TableName"], client=client)
        assert fresh.add("chunk-2", past, _delta({9: 1}), expires, NOW)
        assert not fresh.add("chunk-1", past, _delta({10: 2, 3: 1}), expires, NOW)
        calls = meter.snapshot()[0]
    finally:
        meter.uninstall()

    # THEN chunk 2's refused put falls back to the marked update; the replay, on an item the container now
    # knows, goes straight to the update, which its mark refuses: each chunk counted exactly once
    assert calls == {"dynamodb:PutItem": 1, "dynamodb:UpdateItem": 2}
    assert _counts(writer, past.day) == (4, {10: 2, 3: 1, 9: 1})


def test_todays_keys_are_always_updated(stack):
    meter = AwsMeter().install()
    writer = DynamoAggregates(stack.outputs["TableName"], client=boto3.client("dynamodb"))
    today = AggregateKey("post-purchase-nps", "store", "KRK-02", NOW.date())
    try:
        meter.reset()
        assert writer.add("chunk-1", today, _delta({10: 1}), NOW + timedelta(hours=7), NOW)
        calls = meter.snapshot()[0]
    finally:
        meter.uninstall()
    # live traffic writes today's keys, which mostly exist: no put is tried first
    assert calls == {"dynamodb:UpdateItem": 1}
    assert _counts(writer, NOW.date()) == (1, {10: 1})


def test_a_chunk_of_new_past_keys_is_created_in_one_transaction_or_not_at_all(stack):
    meter = AwsMeter().install()
    client = boto3.client("dynamodb")
    writer = DynamoAggregates(stack.outputs["TableName"], client=client)
    days = [date(2026, 3, 1) + timedelta(days=n) for n in range(3)]
    items = [(AggregateKey("post-purchase-nps", "store", "KRK-02", day), _delta({10: 1})) for day in days]
    expires = NOW + timedelta(hours=7)
    try:
        # GIVEN three keys of past days nobody wrote: one TransactWriteItems creates them all
        meter.reset()
        assert writer.create_all("chunk-1", items, expires, NOW) == {key for key, _ in items}
        assert meter.snapshot()[0] == {"dynamodb:TransactWriteItems": 1}

        # WHEN a fresh container replays the chunk, and another chunk adds a fourth day to the same keys
        fresh = DynamoAggregates(stack.outputs["TableName"], client=client)
        assert fresh.create_all("chunk-1", items, expires, NOW) == set()  # they exist: nothing written
        replayed = [fresh.add("chunk-1", key, delta, expires, NOW) for key, delta in items]
        more = DynamoAggregates(stack.outputs["TableName"], client=client)
        new_day = (AggregateKey("post-purchase-nps", "store", "KRK-02", date(2026, 3, 4)), _delta({3: 1}))
        assert more.create_all("chunk-2", [*items, new_day], expires, NOW) == set()  # one exists: all or nothing
    finally:
        meter.uninstall()

    # THEN the replay counted nothing twice, and the refused transaction wrote nothing
    assert replayed == [False, False, False]
    assert [_counts(writer, day) for day in days] == [(1, {10: 1})] * 3
    assert writer.read("post-purchase-nps", "store", date(2026, 3, 4), date(2026, 3, 4)) == []


def test_a_chunk_of_more_than_100_new_keys_is_created_by_transactions_of_100_each_all_or_nothing(stack):
    meter = AwsMeter().install()
    client = boto3.client("dynamodb")
    table = stack.outputs["TableName"]
    days = [date(2025, 1, 1) + timedelta(days=n) for n in range(150)]
    items = [(AggregateKey("post-purchase-nps", "store", "KRK-02", day), _delta({9: 1})) for day in days]
    expires = NOW + timedelta(hours=7)
    # GIVEN one of the keys the second transaction would put exists already (another chunk wrote it)
    DynamoAggregates(table, client=client).add("other", items[120][0], _delta({0: 1}), expires, NOW)
    try:
        # WHEN a chunk of 150 new past keys is created
        meter.reset()
        created = DynamoAggregates(table, client=client).create_all("chunk-1", items, expires, NOW)
        calls = meter.snapshot()[0]
    finally:
        meter.uninstall()

    # THEN the first 100 are created by one transaction; the second, refused, wrote nothing (its keys go to add)
    assert calls == {"dynamodb:TransactWriteItems": 2}
    assert created == {key for key, _ in items[:100]}
    reader = DynamoAggregates(table, client=client)
    stored = {a.day: a.counts for a in reader.read("post-purchase-nps", "store", days[0], days[-1], value="KRK-02")}
    assert stored == {**{day: {9: 1} for day in days[:100]}, days[120]: {0: 1}}
