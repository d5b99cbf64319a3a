"""Composition root of the web function: the sign-in and the dashboard (roles and cases are the container's)."""

from __future__ import annotations

from npsloop import clock
from npsloop.adapters.hosted_sign_in import HostedSignIn
from npsloop.domain.scope import scope_of
from npsloop.pages.session import WebAuthConfig, WebSignIn
from npsloop.services.dashboard import DashboardService
from npsloop.wiring.container import aggregates, component, link_keys, programs, roles, routing, settings


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
    return DashboardService(programs=programs(), routing=routing(), aggregates=aggregates(), clock=clock.current())
