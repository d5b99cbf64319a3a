"""The container every function's composition root builds on: the ``component`` cache and ``reset()``.

A component is built once per cold start. A function's module (``npsloop.wiring.<function>``)
imports at its top what only that function uses. Components two or more functions share live here
and import their code inside the factory, so a function loads only the components it builds: the
cold start of each function pays for its own dependencies only (benchmarks/cold_start.py). Tests and the local stack
call ``reset()`` to start a fresh "container"; unit tests build the services themselves with fakes.

What keeps a cold start to what that function needs (tests/unit/test_cold_start_imports.py checks):

- a component only one task of a function builds imports its code inside its factory too (the
  cases function's trend scan and digests, the respond function's report stop link);
- ports name domain models in annotations only and import them under ``TYPE_CHECKING``
  (``npsloop.ports``), and the table's shared item helpers live apart from the front half's
  repository (``npsloop.adapters.dynamodb_items``), so a stream consumer loads no invitation models;
- a library one branch of a call needs is imported in that branch: Jinja2 at the first render
  (``npsloop.rendering``), phonenumbers and python-stdnum when a comment has a digit
  (``npsloop.text.masking``);
- the stream consumers read records with powertools' deserialiser alone (``npsloop.changes``): its
  data classes' package loads every event source's classes.

Pydantic (every function validates its settings) and powertools' Logger are the floor every
function pays; the HTTP functions add powertools' event handler, which imports asyncio.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
    from npsloop.adapters.dynamodb_cases import DynamoCases
    from npsloop.adapters.dynamodb_table import DynamoTable
    from npsloop.adapters.event_bus import EventBridgeBus
    from npsloop.adapters.link_secret import SecretLinkKeys
    from npsloop.domain.alerts import AlertRules, RoutingTable
    from npsloop.domain.brand import Brand
    from npsloop.domain.programs import ProgramCatalogue
    from npsloop.domain.scope import RolesConfig
    from npsloop.notices import Notifier
    from npsloop.services.cases import CaseService
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
    from npsloop.settings import Settings

    return Settings.from_environment()


@component
def programs() -> ProgramCatalogue:
    from npsloop.domain.programs import load_programs

    return load_programs()


@component
def brand() -> Brand:
    from npsloop.domain.brand import load_brand

    return load_brand()


@component
def table() -> DynamoTable:
    from npsloop.adapters.dynamodb_table import DynamoTable

    return DynamoTable(settings().table_name)


@component
def link_keys() -> SecretLinkKeys:
    from npsloop.adapters.link_secret import SecretLinkKeys

    return SecretLinkKeys(settings().link_secret_id)


@component
def aggregates() -> DynamoAggregates:
    from npsloop.adapters.dynamodb_aggregates import DynamoAggregates

    return DynamoAggregates(settings().table_name)


@component
def alert_rules() -> AlertRules:
    from npsloop.domain.alerts import load_alert_rules

    return load_alert_rules()


@component
def routing() -> RoutingTable:
    from npsloop.domain.alerts import load_routing

    return load_routing()


@component
def cases_store() -> DynamoCases:
    from npsloop.adapters.dynamodb_cases import DynamoCases

    return DynamoCases(settings().table_name)


@component
def bus() -> EventBridgeBus:
    from npsloop.adapters.event_bus import EventBridgeBus

    (name,) = settings().require("event_bus_name")
    return EventBridgeBus(name)


@component
def notifier() -> Notifier:
    from npsloop.adapters.ses_mailer import SesMailer
    from npsloop.adapters.sns_topic import SnsTopic
    from npsloop.notices import MailSender, Notifier

    config = settings()
    topic_arn, sender = config.require("alerts_topic_arn", "sender_address")
    return Notifier(
        topic=SnsTopic(topic_arn),
        mailer=SesMailer(config.configuration_set),
        sender=MailSender(sender, config.sender_name),
        brand=brand(),
    )


@component
def roles() -> RolesConfig:
    """config/roles.toml: which groups reach which stores, cases and personal data (api and web)."""
    from npsloop.domain.scope import load_roles

    return load_roles()


@component
def quiet_case_service() -> CaseService:
    """The case service of the API and the pages: they change cases (and put CaseClosed on the bus) and
    send no notices (no topic or sender in their environment)."""
    from npsloop import clock
    from npsloop.services.cases import CaseService

    return CaseService(
        rules=alert_rules(),
        routing=routing(),
        cases=cases_store(),
        bus=bus(),
        notifier=None,
        public_base_url=settings().public_base_url,
        clock=clock.current(),
    )
