"""Composition root of the respond function."""

from __future__ import annotations

from npsloop import clock
from npsloop.services.report_preferences import ReportStopService
from npsloop.services.respond import RespondService
from npsloop.wiring.container import brand, component, link_keys, programs, settings, table


@component
def respond_service() -> RespondService:
    store = table()
    return RespondService(
        programs=programs(),
        invitations=store,
        responses=store,
        customers=store,
        keys=link_keys(),
        brand=brand(),
        clock=clock.current(),
    )


@component
def report_stop_service() -> ReportStopService:
    from npsloop.adapters.dynamodb_reports import DynamoReportPreferences

    return ReportStopService(
        keys=link_keys(),
        preferences=DynamoReportPreferences(settings().table_name),
        brand=brand(),
        clock=clock.current(),
    )
