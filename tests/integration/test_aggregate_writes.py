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
