"""How the score adapter reads a date range: one paged Query per month's partition, days in order."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
from npsloop.domain.aggregates import AggregateKey, Delta, FunnelDelta
from npsloop.domain.funnel import FUNNEL_PREFIX
from npsloop.domain.surveys import SurveyType
from npsloop.domain.themes import THEME_PREFIX, ThemeDelta

NOW = datetime.fromisoformat("2026-12-10T10:30:00+00:00")  # the days written are long past: put whole
PROGRAM = "post-purchase-nps"
STORES = ("KRK-02", "WAW-01")
FIRST, LAST = date(2026, 9, 20), date(2026, 11, 5)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _delta(prefix: str, day: date) -> Delta | FunnelDelta | ThemeDelta:
    if prefix == FUNNEL_PREFIX:
        return FunnelDelta({"invited": day.day})
    if prefix == THEME_PREFIX:
        return ThemeDelta({"a#detractor": day.day})
    return Delta(SurveyType.NPS, day.day, {9: day.day})


def _write(stack, prefix: str) -> DynamoAggregates:
    """Two stores on every day of 1 September to 30 November: the range's months, whole."""
    aggregates = DynamoAggregates(stack.outputs["TableName"], client=stack.client("dynamodb"))
    items = [
        (AggregateKey(PROGRAM, "store", store, day, prefix), _delta(prefix, day))
        for day in _days(date(2026, 9, 1), date(2026, 11, 30))
        for store in STORES
    ]
    assert len(aggregates.create_all("seed", items, NOW + timedelta(hours=7), NOW)) == len(items)
    return aggregates


READS = {  # each kind's read, as (day, value, the count written)
    "AGG#": lambda a, *args, **kw: [(d.day, d.value, d.n) for d in a.read(*args, **kw)],
    FUNNEL_PREFIX: lambda a, *args, **kw: [(d.day, d.value, d.counts["invited"]) for d in a.read_funnel(*args, **kw)],
    THEME_PREFIX: lambda a, *args, **kw: [
        (d.day, d.value, d.counts["a#detractor"]) for d in a.read_themes(*args, **kw)
    ],
}


@pytest.mark.parametrize("prefix", list(READS))
def test_a_range_over_three_months_is_one_query_per_month_and_returns_exactly_its_days_in_order(stack, prefix):
    # GIVEN every day of September to November stored, two stores a day
    aggregates = _write(stack, prefix)
    read = READS[prefix]

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
    _write(stack, "AGG#")
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
