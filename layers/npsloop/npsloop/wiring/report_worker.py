"""Composition root of the report worker (the report jobs queue's SQS event source invokes it)."""

from __future__ import annotations

from npsloop import clock
from npsloop.adapters.dynamodb_answers import DynamoAnswers
from npsloop.adapters.dynamodb_reports import DynamoReportClaims, DynamoReportPreferences
from npsloop.adapters.parking_queue import ParkingQueue
from npsloop.adapters.ses_mailer import SesMailer
from npsloop.services.answers import AnswerService
from npsloop.services.funnel import FunnelService
from npsloop.services.reports import (
    AnswerCommentSource,
    InProcessChartCache,
    ReportSender,
    ReportWorker,
    RepositoryCaseSource,
    SendPacer,
    ServiceFunnelSource,
)
from npsloop.services.scores import ScoresService
from npsloop.wiring.container import (
    aggregates,
    brand,
    cases_store,
    component,
    link_keys,
    programs,
    roles,
    routing,
    settings,
)
from npsloop.wiring.report_planner import reports


@component
def chart_cache() -> InProcessChartCache:
    """Per container: jobs arrive sorted by scope, so a scope's charts are drawn once per environment."""
    return InProcessChartCache()


@component
def worker() -> ReportWorker:
    config = settings()
    sender, base_url, dlq_url = config.require("sender_address", "public_base_url", "report_dlq_url")
    return ReportWorker(
        reports=reports(),
        programs=programs(),
        scores=ScoresService(programs=programs(), aggregates=aggregates(), clock=clock.current()),
        roles=roles(),
        routing=routing(),
        claims=DynamoReportClaims(config.table_name),
        preferences=DynamoReportPreferences(config.table_name),
        mailer=SesMailer(config.configuration_set),
        keys=link_keys(),
        charts=chart_cache(),
        sender=ReportSender(sender, base_url),
        brand=brand(),
        clock=clock.current(),
        cases=RepositoryCaseSource(cases_store(), routing()),
        funnel=ServiceFunnelSource(FunnelService(reader=aggregates())),  # the funnel days: Query on the table
        comments=AnswerCommentSource(AnswerService(DynamoAnswers(config.table_name), programs(), routing())),
        pacer=SendPacer(config.report_send_rate),
        parking=ParkingQueue(dlq_url, parked_by="npsloop-report-worker"),
    )
