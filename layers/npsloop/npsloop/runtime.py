"""Composition root: services with their production adapters, built once per cold start.

Tests and the local stack call ``reset()`` to start a fresh "container"; unit tests build the
services themselves with fakes instead.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from npsloop import clock
from npsloop.adapters.dynamodb_table import DynamoTable
from npsloop.adapters.link_secret import SecretLinkKeys
from npsloop.adapters.parking_queue import ParkingQueue
from npsloop.adapters.ses_mailer import SesMailer
from npsloop.domain.programs import ProgramCatalogue, load_programs
from npsloop.services.invite import InvitationSweep, InviteService, SenderIdentity
from npsloop.services.respond import RespondService
from npsloop.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
_components: list[Any] = []


def component(factory: F) -> F:
    """Cache a factory for the life of the container and let ``reset()`` forget it.

    The composition roots of later areas (``npsloop.wiring.*``) build their services with it.
    """
    cached = cache(factory)
    _components.append(cached)
    return cached  # type: ignore[return-value]


@component
def settings() -> Settings:
    return Settings.from_environment()


@component
def programs() -> ProgramCatalogue:
    return load_programs()


@component
def table() -> DynamoTable:
    return DynamoTable(settings().table_name)


@component
def link_keys() -> SecretLinkKeys:
    return SecretLinkKeys(settings().link_secret_id)


@component
def invite_service() -> InviteService:
    config = settings()
    sender, queue_url, bucket, _ = config.require(
        "sender_address", "parking_queue_url", "parking_bucket", "public_base_url"
    )
    return InviteService(
        programs=programs(),
        invitations=table(),
        mailer=SesMailer(config.configuration_set),
        keys=link_keys(),
        parking=ParkingQueue(queue_url, bucket=bucket),
        sender=SenderIdentity(sender, config.sender_name, config.public_base_url),
        clock=clock.current(),
    )


@component
def invitation_sweep() -> InvitationSweep:
    return InvitationSweep(invitations=table(), clock=clock.current())


@component
def respond_service() -> RespondService:
    store = table()
    return RespondService(
        programs=programs(),
        invitations=store,
        responses=store,
        customers=store,
        keys=link_keys(),
        clock=clock.current(),
    )


def reset() -> None:
    """Forget every cached setting, adapter and service (a new cold start)."""
    for factory in _components:
        factory.cache_clear()
