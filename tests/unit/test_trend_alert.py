"""The trend alert over simulated day aggregates: a steady store never fires, a real drop fires once.

Thirty stores answer 100 times a day for 90 days: 55% promoters, 40% passives, 5% detractors. The
raw-count rule it replaces ("3 detractors in 24 hours") fires on about 88% of those days at every
store; the trend alert, scanned every day of the last three weeks, fires for none. Then one store's
detractors go from 5% to 20% over the last two weeks: it fires once, for that store, to its owner.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from npsloop.clock import ManualClock
from npsloop.domain.aggregates import AggregateKey, Delta
from npsloop.domain.alerts import load_alert_rules, load_routing
from npsloop.domain.brand import load_brand
from npsloop.domain.programs import load_programs
from npsloop.domain.surveys import SurveyType
from npsloop.notices import MailSender, Notifier
from npsloop.services.trends import TrendService, windows
from tests.fakes_cases import InMemoryCases, RecordingTopic
from tests.fakes_score import InMemoryAggregates

PROGRAM = "post-purchase-nps"
LAST_DAY = date(2026, 11, 30)
DAYS = 90
STORES = ["KRK-02", *(f"S{i:02d}" for i in range(29))]
STEADY = {10: 0.55, 8: 0.40, 3: 0.05}
WORSE = {10: 0.40, 8: 0.40, 3: 0.20}


def simulate(
    aggregates: InMemoryAggregates, *, dropping: str | None = None, drop_from: date | None = None
) -> list[int]:
    """Fill the day aggregates; returns each store-day's detractors (for the raw-count comparison)."""
    rng = random.Random(90)
    detractors_per_day = []
    for store in STORES:
        for offset in range(DAYS):
            day = LAST_DAY - timedelta(days=DAYS - 1 - offset)
            shares = WORSE if store == dropping and drop_from and day >= drop_from else STEADY
            counts = Counter(rng.choices(list(shares), weights=list(shares.values()), k=100))
            detractors_per_day.append(counts[3])
            key = AggregateKey(PROGRAM, "store", store, day)
            stamp = datetime(2027, 1, 1, tzinfo=UTC)
            aggregates.add(f"{store}-{day}", key, Delta(SurveyType.NPS, 100, dict(counts)), stamp, stamp)
    return detractors_per_day


@pytest.fixture
def world():
    clock = ManualClock(datetime(2026, 11, 10, 6, tzinfo=UTC))
    aggregates, claims, topic = InMemoryAggregates(), InMemoryCases(), RecordingTopic()
    service = TrendService(
        programs=load_programs(),
        rules=load_alert_rules(),
        routing=load_routing(),
        aggregates=aggregates,
        claims=claims,
        notifier=Notifier(topic, None, MailSender("alerts@example.com", "npsloop"), load_brand()),
        clock=clock,
        digests=claims,
    )
    return clock, aggregates, topic, service


def scan_daily(clock: ManualClock, service: TrendService, first: date, last: date) -> list[dict[str, int]]:
    results = []
    day = first
    while day <= last:
        clock.advance(datetime(day.year, day.month, day.day, 6, tzinfo=UTC) - clock.now())
        results.append(service.scan())
        day += timedelta(days=1)
    return results


def test_steady_stores_at_5_percent_detractors_never_fire_though_the_raw_count_rule_would_most_days(world):
    clock, aggregates, topic, service = world
    detractors = simulate(aggregates)

    # scans from the first day with a full baseline to the day after the last answers: 21 scans
    results = scan_daily(clock, service, LAST_DAY - timedelta(days=19), LAST_DAY + timedelta(days=1))

    assert len(results) == 21
    assert topic.messages == []
    assert all(r == {"drops": 0, "alerts_sent": 0} for r in results)
    raw_count_days = sum(k >= 3 for k in detractors) / len(detractors)
    assert 0.8 < raw_count_days < 0.95  # "3 detractors in 24 h" at 100 answers a day and 5%


def test_a_store_whose_detractors_go_from_5_to_20_percent_fires_once_to_its_owner(world):
    clock, aggregates, topic, service = world
    simulate(aggregates, dropping="KRK-02", drop_from=LAST_DAY - timedelta(days=13))

    # every day of one block of 14 days (2026-11-23..12-06): the drop is seen each day, alerted once
    results = scan_daily(clock, service, date(2026, 11, 23), date(2026, 12, 1))

    assert sum(r["alerts_sent"] for r in results) == 1
    (message,) = topic.messages
    assert message.attributes | {"severity": "-"} == {
        "kind": "alert",
        "rule": "segment-trend",
        "store": "KRK-02",
        "region": "",
        "team": "pl-south",  # KRK-02 is in malopolskie
        "severity": "-",
    }
    assert message.body["recipient_id"] == "u-ewa.mazur"  # the store's owner in routing.toml
    assert message.body["trend"]["delta"] <= -10
    assert "NPS fell" in message.body["comment"] and "KRK-02" in message.body["comment"]
    assert all(r["drops"] == 1 for r in results[-3:])  # still a drop, no second alert


def test_a_scan_reads_one_query_per_program_and_dimension_whatever_the_answers(world):
    clock, aggregates, _, service = world
    simulate(aggregates)
    clock.advance(datetime(2026, 12, 1, 6, tzinfo=UTC) - clock.now())

    service.scan()

    programs = load_programs().program
    assert aggregates.queries == sum(
        len([d for d in ("store", "region", "channel") if d in p.dimensions]) for p in programs
    )


def test_the_windows_are_the_last_14_days_against_the_8_weeks_before():
    rule = load_alert_rules().trend
    (base_first, base_last), (recent_first, recent_last) = windows(rule, date(2026, 12, 1))

    assert (recent_first, recent_last) == (date(2026, 11, 17), date(2026, 11, 30))
    assert (base_first, base_last) == (date(2026, 9, 22), date(2026, 11, 16))
    assert (base_last - base_first).days + 1 == 56
