"""Composition root of the respond function."""

from __future__ import annotations

from npsloop import clock
from npsloop.services.respond import RespondService
from npsloop.wiring.container import brand, component, link_keys, programs, table


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
