"""Composition root of the alert function."""

from __future__ import annotations

from npsloop import clock
from npsloop.adapters.parking_queue import ParkingQueue
from npsloop.services.alert import AlertService
from npsloop.wiring.container import alert_rules, bus, cases_store, component, notifier, routing, settings


@component
def alert_service() -> AlertService:
    config = settings()
    dlq_url, bucket = config.require("alert_dlq_url", "parking_bucket")
    store = cases_store()
    return AlertService(
        rules=alert_rules(),
        routing=routing(),
        claims=store,
        windows=store,
        cases=store,
        contacts=store,
        digests=store,
        notifier=notifier(),
        bus=bus(),
        parking=ParkingQueue(dlq_url, parked_by="npsloop-alert", bucket=bucket),
        public_base_url=config.public_base_url,
        clock=clock.current(),
    )
