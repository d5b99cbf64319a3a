"""How the score adapter reads a date range: one paged Query per month's partition, days in order."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
from npsloop.domain.aggregates import AggregateKey, Delta, FunnelDelta, day_deltas
from npsloop.domain.surveys import SurveyType
from npsloop.domain.themes import ThemeDelta

NOW = datetime.fromisoformat("2026-12-10T10:30:00+00:00")  # the days written are long past: put whole
PROGRAM = "post-purchase-nps"
STORES = ("KRK-02", "WAW-01")
FIRST, LAST = date(2026, 9, 20), date(2026, 11, 5)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _delta(kind: str, day: date) -> Delta | FunnelDelta | ThemeDelta:
    if kind == "funnel":
        return FunnelDelta({"invited": day.day})
    if kind == "themes":
        return ThemeDelta({"a#detractor": day.day})
    return Delta(SurveyType.NPS, day.day, {9: day.day})


def _write(stack, kind: str) -> DynamoAggregates:
    """Two stores on every day of 1 September to 30 November: the range's months, whole."""
    aggregates = DynamoAggregates(stack.outputs["TableName"], client=stack.client("dynamodb"))
    items = [
        (AggregateKey(PROGRAM, "store", store, day), _delta(kind, day))
        for day in _days(date(2026, 9, 1), date(2026, 11, 30))
        for store in STORES
    ]
    assert len(aggregates.create_all("seed", items, NOW + timedelta(hours=7), NOW)) == len(items)
    return aggregates


READS = {  # each kind's read, as (day, value, the count written)
    "scores": lambda a, *args, **kw: [(d.day, d.value, d.n) for d in a.read(*args, **kw)],
    "funnel": lambda a, *args, **kw: [(d.day, d.value, d.counts["invited"]) for d in a.read_funnel(*args, **kw)],
    "themes": lambda a, *args, **kw: [(d.day, d.value, d.counts["a#detractor"]) for d in a.read_themes(*args, **kw)],
}


@pytest.mark.parametrize("kind", list(READS))
def test_a_range_over_three_months_is_one_query_per_month_and_returns_exactly_its_days_in_order(stack, kind):
    # GIVEN every day of September to November stored, two stores a day
    aggregates = _write(stack, kind)
    read = READS[kind]

    # WHEN 20 September to 5 November is read
    aggregates.stats.queries = 0
    found = read(aggregates, PROGRAM, "store", FIRST, LAST)

    # THEN one Query per month touched, and exactly the range's days (none of the same months' other days), in order
    assert aggregates.stats.queries == 3
    assert found == [(day, store, day.day) for day in _days(FIRST, LAST) for store in STORES]
    # ...each month's Query read only its part of the range: 11 + 31 + 5 days of two stores
    assert aggregates.stats.items == 2 * (11 + 31 + 5)

    # and one store, or a range inside one month, the same way
    aggregates.stats.queries = 0
    assert read(aggregates, PROGRAM, "store", FIRST, LAST, value="WAW-01") == [
        (day, "WAW-01", day.day) for day in _days(FIRST, LAST)
    ]
    assert read(aggregates, PROGRAM, "store", date(2026, 10, 30), date(2026, 10, 31)) == [
        (day, store, day.day) for day in _days(date(2026, 10, 30), date(2026, 10, 31)) for store in STORES
    ]
    assert aggregates.stats.queries == 3 + 1


def test_each_month_of_days_is_its_own_partition(stack):
    # GIVEN days of September to November written through the adapter
    _write(stack, "scores")
    client = stack.client("dynamodb")

    # WHEN each month's partition is queried whole
    def month(pk: str) -> list[str]:
        reply = client.query(
            TableName=stack.outputs["TableName"],
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
        )
        return [item["sk"]["S"] for item in reply["Items"]]

    # THEN it holds that month's days and nothing else; the month-less partition of old holds nothing
    for first, last in ((date(2026, 9, 1), date(2026, 9, 30)), (date(2026, 10, 1), date(2026, 10, 31))):
        expected = [f"{day.isoformat()}#{store}" for day in _days(first, last) for store in STORES]
        assert month(f"AGG#{PROGRAM}#store#{first:%Y-%m}") == expected
    assert month(f"AGG#{PROGRAM}#store") == []


def test_scores_funnel_and_themes_of_a_day_share_one_item_and_each_read_takes_the_days_holding_its_counters(stack):
    # GIVEN 2 November with answers only, 3 November with invitations only, and 4 November with all three kinds,
    # written as the score function writes them (a key's kinds summed into one write)
    aggregates = DynamoAggregates(stack.outputs["TableName"], client=stack.client("dynamodb"))
    only_answers, only_invitations, both = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)
    parts = [
        {AggregateKey(PROGRAM, "store", "KRK-02", day): _delta("scores", day) for day in (only_answers, both)},
        {AggregateKey(PROGRAM, "store", "KRK-02", day): _delta("funnel", day) for day in (only_invitations, both)},
        {AggregateKey(PROGRAM, "store", "KRK-02", both): _delta("themes", both)},
    ]
    merged = day_deltas(*parts)
    for key, delta in sorted(merged.items()):
        assert aggregates.add(f"chunk-{key.day}", key, delta, NOW + timedelta(hours=7), NOW)

    # THEN three items, one per day: the 4th holds its score, funnel and theme counters together
    reply = stack.client("dynamodb").query(
        TableName=stack.outputs["TableName"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"AGG#{PROGRAM}#store#2026-11"}},
    )
    assert [item["sk"]["S"] for item in reply["Items"]] == [
        f"{day}#KRK-02" for day in (only_answers, only_invitations, both)
    ]
    assert {"n", "c9", "f#invited", "a#detractor", "survey_type"} <= set(reply["Items"][2])
    # and each read takes the days holding its counters, and only its counters
    assert [(d.day, d.n, d.counts) for d in aggregates.read(PROGRAM, "store", only_answers, both)] == [
        (only_answers, 2, {9: 2}),
        (both, 4, {9: 4}),
    ]
    assert [(d.day, d.counts) for d in aggregates.read_funnel(PROGRAM, "store", only_answers, both)] == [
        (only_invitations, {"invited": 3}),
        (both, {"invited": 4}),
    ]
    assert [(d.day, d.counts) for d in aggregates.read_themes(PROGRAM, "store", only_answers, both)] == [
        (both, {"a#detractor": 4}),
    ]
