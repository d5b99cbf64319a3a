"""Composition root of the delivery function."""

from __future__ import annotations

from npsloop.adapters.dynamodb_delivery import DynamoDeliveryStore
from npsloop.adapters.parking_queue import ParkingQueue
from npsloop.services.delivery import DeliveryService
from npsloop.wiring.container import component, settings


@component
def delivery_service() -> DeliveryService:
    config = settings()
    dlq_url, bucket = config.require("delivery_dlq_url", "parking_bucket")
    return DeliveryService(
        store=DynamoDeliveryStore(config.table_name),
        parking=ParkingQueue(dlq_url, parked_by="npsloop-delivery", bucket=bucket),
    )
