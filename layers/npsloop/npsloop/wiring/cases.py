"""Composition root of the cases function (the case sweep, the daily trend scan and the digest run).

The sweep runs every 15 minutes; the trend scan's and the digests' services import their code
inside their factories, so a run loads only its own task's (``npsloop.wiring.container``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from npsloop import clock
from npsloop.services.cases import CaseService
from npsloop.wiring.container import (
    aggregates,
    alert_rules,
    bus,
    cases_store,
    component,
    notifier,
    programs,
    routing,
    settings,
)

if TYPE_CHECKING:
    from npsloop.services.digests import DigestService
    from npsloop.services.trends import TrendService


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


@component
def trend_service() -> TrendService:
    from npsloop.services.trends import TrendService

    return TrendService(
        programs=programs(),
        rules=alert_rules(),
        routing=routing(),
        aggregates=aggregates(),
        claims=cases_store(),
        notifier=notifier(),
        clock=clock.current(),
        digests=cases_store(),
    )


@component
def digest_service() -> DigestService:
    from npsloop.services.digests import DigestService

    store = cases_store()
    return DigestService(routing=routing(), book=store, claims=store, notifier=notifier(), clock=clock.current())
