"""Composition root of the analyse function (comment analysis on the table's stream)."""

from __future__ import annotations

from npsloop.adapters.dynamodb_analysis import DynamoAnalyses
from npsloop.adapters.parking_queue import ParkingQueue
from npsloop.services.analyse import AnalyseService
from npsloop.text.providers import AnalysisProvider
from npsloop.wiring.container import component, settings


@component
def provider() -> AnalysisProvider:
    """The built-in model (numpy weights, ~2 s to load): loaded at the first comment, once per environment."""
    from npsloop.text.providers import BuiltinProvider

    return BuiltinProvider()


@component
def analyse_service() -> AnalyseService:
    dlq_url, bucket = settings().require("analyse_dlq_url", "parking_bucket")
    return AnalyseService(
        store=DynamoAnalyses(settings().table_name),
        provider=provider,
        parking=ParkingQueue(dlq_url, parked_by="npsloop-analyse", bucket=bucket),
    )
