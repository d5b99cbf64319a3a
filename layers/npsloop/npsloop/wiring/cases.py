"""Composition root of the cases function (the case sweep)."""

from __future__ import annotations

from npsloop import clock
from npsloop.services.cases import CaseService
from npsloop.wiring.container import alert_rules, bus, cases_store, component, notifier, routing, settings


@component
def sweep_service() -> CaseService:
    store = cases_store()
    return CaseService(
        rules=alert_rules(),
        routing=routing(),
        cases=store,
        bus=bus(),
        notifier=notifier(),
        public_base_url=settings().public_base_url,
        clock=clock.current(),
        claims=store,
    )
