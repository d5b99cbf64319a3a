"""Composition root of the alert and case area: the alert handler, the case sweep and the case API."""

from __future__ import annotations

from npsloop import clock, runtime
from npsloop.adapters.dynamodb_cases import DynamoCases
from npsloop.adapters.event_bus import EventBridgeBus
from npsloop.adapters.parking_queue import ParkingQueue
from npsloop.adapters.ses_mailer import SesMailer
from npsloop.adapters.sns_topic import SnsTopic
from npsloop.domain.alerts import AlertRules, RoutingTable, load_alert_rules, load_routing
from npsloop.notices import MailSender, Notifier
from npsloop.runtime import component
from npsloop.services.alert import AlertService
from npsloop.services.cases import CaseService


@component
def alert_rules() -> AlertRules:
    return load_alert_rules()


@component
def routing() -> RoutingTable:
    return load_routing()


@component
def cases_store() -> DynamoCases:
    return DynamoCases(runtime.settings().table_name)


@component
def bus() -> EventBridgeBus:
    (name,) = runtime.settings().require("event_bus_name")
    return EventBridgeBus(name)


@component
def notifier() -> Notifier:
    config = runtime.settings()
    topic_arn, sender = config.require("alerts_topic_arn", "sender_address")
    return Notifier(
        topic=SnsTopic(topic_arn),
        mailer=SesMailer(config.configuration_set),
        sender=MailSender(sender, config.sender_name),
    )


@component
def alert_service() -> AlertService:
    config = runtime.settings()
    dlq_url, bucket = config.require("alert_dlq_url", "parking_bucket")
    store = cases_store()
    return AlertService(
        rules=alert_rules(),
        routing=routing(),
        claims=store,
        windows=store,
        cases=store,
        notifier=notifier(),
        bus=bus(),
        parking=ParkingQueue(dlq_url, parked_by="npsloop-alert", bucket=bucket),
        public_base_url=config.public_base_url,
        clock=clock.current(),
    )


@component
def sweep_service() -> CaseService:
    store = cases_store()
    return CaseService(
        rules=alert_rules(),
        routing=routing(),
        cases=store,
        bus=bus(),
        notifier=notifier(),
        public_base_url=runtime.settings().public_base_url,
        clock=clock.current(),
        claims=store,
    )


@component
def case_api_service() -> CaseService:
    """The API function sends no notices (no topic or sender in its environment): it only writes cases."""
    return CaseService(
        rules=alert_rules(),
        routing=routing(),
        cases=cases_store(),
        bus=bus(),
        notifier=None,
        public_base_url=runtime.settings().public_base_url,
        clock=clock.current(),
    )
