"""Composition root: services with their production adapters, built once per cold start.

Tests and the local stack call ``reset()`` to start a fresh "container"; unit tests build the
services themselves with fakes instead.
"""

from __future__ import annotations

from functools import cache

from npsloop import clock
from npsloop.adapters.dynamodb_table import DynamoTable
from npsloop.adapters.link_secret import SecretLinkKeys
from npsloop.adapters.parking_queue import ParkingQueue
from npsloop.adapters.ses_mailer import SesMailer
from npsloop.domain.programs import ProgramCatalogue, load_programs
from npsloop.services.invite import InviteService, SenderIdentity
from npsloop.services.respond import RespondService
from npsloop.settings import Settings


@cache
def settings() -> Settings:
    return Settings.from_environment()


@cache
def programs() -> ProgramCatalogue:
    return load_programs()


@cache
def _table() -> DynamoTable:
    return DynamoTable(settings().table_name)


@cache
def _link_keys() -> SecretLinkKeys:
    return SecretLinkKeys(settings().link_secret_id)


@cache
def invite_service() -> InviteService:
    config = settings()
    if not config.sender_address or not config.parking_queue_url or not config.public_base_url:
        raise RuntimeError("the invite function needs SENDER_ADDRESS, PARKING_QUEUE_URL and PUBLIC_BASE_URL")
    return InviteService(
        programs=programs(),
        invitations=_table(),
        mailer=SesMailer(config.configuration_set),
        keys=_link_keys(),
        parking=ParkingQueue(config.parking_queue_url),
        sender=SenderIdentity(config.sender_address, config.sender_name, config.public_base_url),
        clock=clock.current(),
    )


@cache
def respond_service() -> RespondService:
    table = _table()
    return RespondService(
        programs=programs(),
        invitations=table,
        responses=table,
        customers=table,
        keys=_link_keys(),
        clock=clock.current(),
    )


def reset() -> None:
    """Forget every cached setting, adapter and service (a new cold start)."""
    for factory in (settings, programs, _table, _link_keys, invite_service, respond_service):
        factory.cache_clear()
