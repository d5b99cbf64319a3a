"""The container every function's composition root builds on: the ``component`` cache and ``reset()``.

A component is built once per cold start. Components two or more functions share live here; the
rest live in their function's module (``npsloop.wiring.<function>``). Tests and the local stack
call ``reset()`` to start a fresh "container"; unit tests build the services themselves with fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
from npsloop.adapters.dynamodb_cases import DynamoCases
from npsloop.adapters.dynamodb_table import DynamoTable
from npsloop.adapters.event_bus import EventBridgeBus
from npsloop.adapters.link_secret import SecretLinkKeys
from npsloop.adapters.ses_mailer import SesMailer
from npsloop.adapters.sns_topic import SnsTopic
from npsloop.domain.alerts import AlertRules, RoutingTable, load_alert_rules, load_routing
from npsloop.domain.programs import ProgramCatalogue, load_programs
from npsloop.notices import MailSender, Notifier
from npsloop.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
_components: list[Any] = []


def component(factory: F) -> F:
    """Cache a factory for the life of the container and let ``reset()`` forget it."""
    cached = cache(factory)
    _components.append(cached)
    return cached  # type: ignore[return-value]


def reset() -> None:
    """Forget every cached setting, adapter and service of every function (a new cold start)."""
    for factory in _components:
        factory.cache_clear()


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
def aggregates() -> DynamoAggregates:
    return DynamoAggregates(settings().table_name)


@component
def alert_rules() -> AlertRules:
    return load_alert_rules()


@component
def routing() -> RoutingTable:
    return load_routing()


@component
def cases_store() -> DynamoCases:
    return DynamoCases(settings().table_name)


@component
def bus() -> EventBridgeBus:
    (name,) = settings().require("event_bus_name")
    return EventBridgeBus(name)


@component
def notifier() -> Notifier:
    config = settings()
    topic_arn, sender = config.require("alerts_topic_arn", "sender_address")
    return Notifier(
        topic=SnsTopic(topic_arn),
        mailer=SesMailer(config.configuration_set),
        sender=MailSender(sender, config.sender_name),
    )
