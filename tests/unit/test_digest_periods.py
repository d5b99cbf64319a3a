"""Digest periods in the recipient's time zone: a day or a week between two local send times, named by
the send's local date, whatever the daylight-saving change does to the length in hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from npsloop.domain.digests import Delivery, DigestSchedule

WARSAW = "Europe/Warsaw"
DAILY_AT_8 = DigestSchedule(delivery=Delivery.DAILY, hour=8)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_an_alert_before_the_send_hour_goes_into_that_mornings_digest_and_after_it_into_the_next():
    before = DAILY_AT_8.period_of(utc(2026, 12, 1, 6, 59), WARSAW)  # 07:59 CET
    after = DAILY_AT_8.period_of(utc(2026, 12, 1, 7, 1), WARSAW)  # 08:01 CET

    assert before.key == "daily#2026-12-01" and before.end == utc(2026, 12, 1, 7, 0)
    assert before.start == utc(2026, 11, 30, 7, 0)
    assert after.key == "daily#2026-12-02"


def test_an_alert_at_the_send_instant_is_in_the_period_that_sends_then():
    at_send = DAILY_AT_8.period_of(utc(2026, 12, 1, 7, 0), WARSAW)

    assert at_send.key == "daily#2026-12-02"  # the run at 08:00 has already closed 2026-12-01's period
    assert at_send.holds(utc(2026, 12, 1, 7, 0))
    assert DAILY_AT_8.last_closed(utc(2026, 12, 1, 7, 0), WARSAW).key == "daily#2026-12-01"


def test_the_period_across_the_spring_change_is_23_hours_and_across_the_autumn_change_25():
    spring = DAILY_AT_8.period_of(utc(2026, 3, 29, 1, 30), WARSAW)  # Sunday night, clocks go 02:00 -> 03:00
    autumn = DAILY_AT_8.period_of(utc(2026, 10, 25, 1, 30), WARSAW)  # clocks go 03:00 -> 02:00

    assert spring.key == "daily#2026-03-29" and spring.end - spring.start == timedelta(hours=23)
    assert spring.end == utc(2026, 3, 29, 6, 0)  # 08:00 CEST
    assert autumn.key == "daily#2026-10-25" and autumn.end - autumn.start == timedelta(hours=25)
    assert autumn.end == utc(2026, 10, 25, 7, 0)  # 08:00 CET


def test_a_send_hour_skipped_by_the_spring_change_is_the_hour_after_it():
    at_two = DigestSchedule(delivery=Delivery.DAILY, hour=2)

    period = at_two.period_of(utc(2026, 3, 28, 12, 0), WARSAW)

    assert period.end == utc(2026, 3, 29, 1, 0)  # 03:00 CEST: 02:00 did not happen that night


def test_a_weekly_digest_runs_from_one_send_weekday_to_the_next():
    monday_8 = DigestSchedule(delivery=Delivery.WEEKLY, hour=8, weekday=1)

    sunday = monday_8.period_of(utc(2026, 3, 29, 20, 0), WARSAW)  # Sunday 22:00 CEST
    monday_early = monday_8.period_of(utc(2026, 3, 23, 6, 0), WARSAW)  # Monday 07:00 CET

    assert sunday.key == "weekly#2026-03-30" and sunday.start == utc(2026, 3, 23, 7, 0)
    assert sunday.end - sunday.start == timedelta(days=7, hours=-1)  # the week the clocks went forward
    assert monday_early.key == "weekly#2026-03-23"


def test_every_instant_of_a_year_falls_in_exactly_the_period_it_names():
    instant = utc(2026, 1, 1)
    while instant < utc(2027, 1, 1):
        period = DAILY_AT_8.period_of(instant, WARSAW)
        assert period.holds(instant)
        assert DAILY_AT_8.last_closed(period.end, WARSAW) == period
        instant += timedelta(hours=5, minutes=17)


def test_an_immediate_route_has_no_period_and_a_bad_hour_is_refused():
    with pytest.raises(ValueError, match="immediate"):
        DigestSchedule().period_of(utc(2026, 12, 1), WARSAW)
    with pytest.raises(ValidationError, match="hour"):
        DigestSchedule(delivery=Delivery.DAILY, hour=24)
