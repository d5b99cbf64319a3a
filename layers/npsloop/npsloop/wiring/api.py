"""Composition root of the api function: the score API's and the case API's services."""

from __future__ import annotations

from npsloop import clock
from npsloop.domain.scope import RolesConfig, load_roles
from npsloop.services.cases import CaseService
from npsloop.services.scores import ScoresService
from npsloop.wiring.container import (
    aggregates,
    alert_rules,
    bus,
    cases_store,
    component,
    programs,
    routing,
    settings,
)


@component
def scores_service() -> ScoresService:
    return ScoresService(programs=programs(), aggregates=aggregates(), clock=clock.current())


@component
def case_api_service() -> CaseService:
    """The API function sends no notices (no topic or sender in its environment): it only writes cases."""
    return CaseService(
        rules=alert_rules(),
        routing=routing(),
        cases=cases_store(),
        bus=bus(),
        notifier=None,
        public_base_url=settings().public_base_url,
        clock=clock.current(),
    )


@component
def roles() -> RolesConfig:
    """config/roles.toml: which groups reach which stores, cases and personal data."""
    return load_roles()
