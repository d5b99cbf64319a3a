"""Composition root of the report planner (the scheduled reports' schedules invoke it)."""

from __future__ import annotations

from npsloop import clock
from npsloop.adapters.cognito_directory import CognitoDirectory
from npsloop.adapters.sqs_report_queue import SqsReportQueue
from npsloop.domain.reports import ReportsConfig, load_reports
from npsloop.services.reports import ReportPlanner
from npsloop.wiring.container import component, programs, roles, routing, settings


@component
def reports() -> ReportsConfig:
    config = load_reports()
    config.check_against([p.id for p in programs().program], [r.name for r in roles().role], origin="reports.toml")
    return config


@component
def planner() -> ReportPlanner:
    pool, queue_url = settings().require("user_pool_id", "report_queue_url")
    return ReportPlanner(
        reports=reports(),
        roles=roles(),
        routing=routing(),
        directory=CognitoDirectory(pool),
        queue=SqsReportQueue(queue_url),
        clock=clock.current(),
    )
