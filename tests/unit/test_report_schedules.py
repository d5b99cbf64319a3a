"""The reports' delivery as template.yaml wires it: one EventBridge Scheduler schedule per report of
reports.toml, in its time zone; a claim that outlives every redelivery of a job; a send rate within SES's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from npsloop.domain.reports import load_reports
from npsloop.services.reports import CLAIM_LEASE, REDELIVERY_HORIZON, SendPacer
from npsloop_local.schedules import CronExpression
from npsloop_local.template import Template
from tests.conftest import ROOT

TEMPLATE = Template.load(ROOT / "template.yaml")
RESOURCES = TEMPLATE.resources
PLANNER = RESOURCES["ReportPlannerFunction"]["Properties"]
WORKER = RESOURCES["ReportWorkerFunction"]["Properties"]
QUEUE = RESOURCES["ReportJobsQueue"]["Properties"]
SES_NEW_ACCOUNT_RATE = 14  # emails a second: SES's starting maximum send rate out of the sandbox


def schedules() -> dict[str, dict]:
    return {
        json.loads(event["Properties"]["Input"])["report"]: event["Properties"]
        for event in PLANNER["Events"].values()
        if event["Type"] == "ScheduleV2"
    }


def test_each_enabled_report_has_a_schedule_at_its_cadence_in_its_time_zone():
    reports = {r.id: r for r in load_reports().report if r.enabled}
    found = schedules()
    assert set(found) == set(reports)
    for report_id, schedule in found.items():
        cadence = reports[report_id].cadence
        assert schedule["ScheduleExpression"] == cadence.schedule_expression(), report_id
        assert schedule["ScheduleExpressionTimezone"] == cadence.time_zone, report_id
        assert "Arn" in schedule["DeadLetterConfig"], report_id


@pytest.mark.parametrize(
    ("after", "fires"),
    [
        (datetime(2026, 11, 29, 12, 0, tzinfo=UTC), datetime(2026, 11, 30, 6, 0, tzinfo=UTC)),  # CET: UTC+1
        (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), datetime(2026, 3, 30, 5, 0, tzinfo=UTC)),  # CEST from 29 March
        (datetime(2026, 10, 24, 12, 0, tzinfo=UTC), datetime(2026, 10, 26, 6, 0, tzinfo=UTC)),  # CET again
    ],
)
def test_the_weekly_schedule_fires_at_seven_in_warsaw_on_either_side_of_a_clock_change(after, fires):
    schedule = schedules()["store-weekly"]
    cron = CronExpression.parse(schedule["ScheduleExpression"])
    from zoneinfo import ZoneInfo

    assert cron.next_after(after, ZoneInfo(schedule["ScheduleExpressionTimezone"])) == fires


def test_a_claim_outlives_every_redelivery_of_its_job():
    visibility = timedelta(seconds=QUEUE["VisibilityTimeout"])
    receives = QUEUE["RedrivePolicy"]["maxReceiveCount"]
    assert visibility * receives == REDELIVERY_HORIZON
    assert CLAIM_LEASE > REDELIVERY_HORIZON
    # AWS's advice for an SQS event source: a visibility timeout of at least six times the function's timeout.
    assert visibility >= 6 * timedelta(seconds=WORKER["Timeout"])


def test_the_workers_stay_under_the_ses_send_rate_by_default():
    concurrency = WORKER["Events"]["Jobs"]["Properties"]["ScalingConfig"]["MaximumConcurrency"]
    rate = TEMPLATE.document["Parameters"]["ReportSendRate"]["Default"]
    assert concurrency * rate < SES_NEW_ACCOUNT_RATE
    assert WORKER["Events"]["Jobs"]["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_pacer_spaces_sends_at_the_configured_rate():
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = SendPacer(4, monotonic=lambda: now[0], sleep=sleep)
    for _ in range(9):
        pacer.wait()
    assert now[0] - 100.0 == pytest.approx(2.0)  # 9 sends at 4 a second: the last at 2 s
    assert slept == [pytest.approx(0.25)] * 8
