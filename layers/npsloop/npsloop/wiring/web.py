"""Composition root of the web function: sign-in, dashboard, funnel and answers (roles and cases: the container)."""

from __future__ import annotations

from npsloop import clock
from npsloop.adapters.dynamodb_answers import DynamoAnswers
from npsloop.adapters.hosted_sign_in import HostedSignIn
from npsloop.domain.scope import scope_of
from npsloop.pages.session import WebAuthConfig, WebSignIn
from npsloop.services.answers import AnswerService
from npsloop.services.dashboard import DashboardService
from npsloop.services.funnel import FunnelService
from npsloop.wiring.container import (
    aggregates,
    alert_rules,
    cases_store,
    component,
    link_keys,
    programs,
    roles,
    routing,
    settings,
)


@component
def sign_in() -> WebSignIn:
    issuer, client_id, hosted_ui, jwks = settings().require("jwt_issuer", "app_client_id", "hosted_ui_url", "jwks_url")
    provider = HostedSignIn(jwks_url=jwks, token_url=f"{hosted_ui}/oauth2/token", client_id=client_id)
    config = WebAuthConfig(issuer=issuer, client_id=client_id, hosted_ui_url=hosted_ui)
    return WebSignIn(config=config, provider=provider, keys=link_keys(), clock=clock.current(), landing=landing)


def landing(subject: str, groups: frozenset[str]) -> str:
    """After a sign-in that asked for no page: the dashboard for people who read scores, their cases otherwise."""
    return "/dashboard" if scope_of(subject, groups, roles(), routing()).reads_scores else "/cases"


@component
def dashboard_service() -> DashboardService:
    return DashboardService(
        programs=programs(),
        routing=routing(),
        rules=alert_rules(),
        aggregates=aggregates(),
        themes=aggregates(),
        alerts=cases_store(),
        clock=clock.current(),
    )


@component
def answers() -> AnswerService:
    """The answers list, its CSV and the live fragment: the answer index of the table (GSI1, GSI2)."""
    return AnswerService(DynamoAnswers(settings().table_name), programs(), routing())


@component
def funnel_service() -> FunnelService:
    """The dashboard's funnel (one Query per view and month on the table: dynamodb:Query, as the scores)."""
    return FunnelService(reader=aggregates())
