"""Where make demo splits its history between the process that runs the live weeks and a forked one.

The forked process's older days are merged only after the live weeks, so the live weeks must never read
them: neither the daily trend alert's windows nor a weekly report's trend chart may reach past the split.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from npsloop.domain.alerts import load_alert_rules
from npsloop.domain.reports import TREND_PERIODS
from npsloop_local import demo


def test_the_split_is_a_utc_midnight_before_everything_the_live_weeks_read():
    # GIVEN the demo's full scale (live weeks from Monday 2026-11-02)
    scale = demo.FULL
    rule = load_alert_rules().trend
    assert rule is not None

    # WHEN the split is placed
    split = demo._live_reads_from(scale)

    # THEN it is a UTC midnight, before the trend windows of the first live day and before the weekly
    # report chart of the first live Monday (its 12 weeks end with the week before it)
    assert split == datetime(split.year, split.month, split.day, tzinfo=UTC)
    assert split <= scale.live_start - timedelta(days=rule.recent_days + rule.baseline_days)
    assert split <= scale.live_start - timedelta(weeks=TREND_PERIODS)
    assert split > scale.history_start  # so there are older days for the other process


def test_live_weeks_over_a_first_of_the_month_read_the_whole_history_first():
    # GIVEN live weeks that cross into a new month (a monthly report, over 12 months, runs during them)
    scale = demo.Scale(history=1_000, history_days=365, customers=10, live_days=30)
    assert any((scale.live_start + timedelta(days=d)).day == 1 for d in range(1, scale.live_days))

    # THEN nothing is left for later: the split is the history's start
    assert demo._live_reads_from(scale) == scale.history_start
