"""Composition root of the scoring area: the stream consumer and the score API's service."""

from __future__ import annotations

from npsloop import clock, runtime
from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
from npsloop.adapters.parking_queue import ParkingQueue
from npsloop.runtime import component
from npsloop.services.score import ScoreService
from npsloop.services.scores import ScoresService


@component
def aggregates() -> DynamoAggregates:
    return DynamoAggregates(runtime.settings().table_name)


@component
def score_service() -> ScoreService:
    dlq_url, bucket = runtime.settings().require("score_dlq_url", "parking_bucket")
    return ScoreService(
        programs=runtime.programs(),
        aggregates=aggregates(),
        parking=ParkingQueue(dlq_url, parked_by="npsloop-score", bucket=bucket),
        clock=clock.current(),
    )


@component
def scores_service() -> ScoresService:
    return ScoresService(programs=runtime.programs(), aggregates=aggregates(), clock=clock.current())
