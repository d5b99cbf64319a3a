"""Composition root of the web function: the sign-in, the roles and the case service of the pages."""

from __future__ import annotations

from npsloop import clock
from npsloop.adapters.hosted_sign_in import HostedSignIn
from npsloop.domain.scope import RolesConfig, load_roles
from npsloop.pages.session import WebAuthConfig, WebSignIn
from npsloop.services.cases import CaseService
from npsloop.wiring.container import alert_rules, bus, cases_store, component, link_keys, routing, settings


@component
def sign_in() -> WebSignIn:
    issuer, client_id, hosted_ui, jwks = settings().require("jwt_issuer", "app_client_id", "hosted_ui_url", "jwks_url")
    provider = HostedSignIn(jwks_url=jwks, token_url=f"{hosted_ui}/oauth2/token", client_id=client_id)
    config = WebAuthConfig(issuer=issuer, client_id=client_id, hosted_ui_url=hosted_ui)
    return WebSignIn(config=config, provider=provider, keys=link_keys(), clock=clock.current())


@component
def roles() -> RolesConfig:
    return load_roles()


@component
def case_service() -> CaseService:
    """The pages send no notices: they only change cases (and put CaseClosed on the bus)."""
    return CaseService(
        rules=alert_rules(),
        routing=routing(),
        cases=cases_store(),
        bus=bus(),
        notifier=None,
        public_base_url=settings().public_base_url,
        clock=clock.current(),
    )
