"""Composition root of the score function (the stream consumer)."""

from __future__ import annotations

from npsloop import clock
from npsloop.adapters.parking_queue import ParkingQueue
from npsloop.services.score import ScoreService
from npsloop.wiring.container import aggregates, component, programs, settings


@component
def score_service() -> ScoreService:
    dlq_url, bucket = settings().require("score_dlq_url", "parking_bucket")
    return ScoreService(
        programs=programs(),
        aggregates=aggregates(),
        parking=ParkingQueue(dlq_url, parked_by="npsloop-score", bucket=bucket),
        clock=clock.current(),
    )
