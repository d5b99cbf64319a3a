"""Composition root of the api function: the score API's service (roles and the case service are the container's)."""

from __future__ import annotations

from npsloop import clock
from npsloop.services.scores import ScoresService
from npsloop.wiring.container import aggregates, component, programs


@component
def scores_service() -> ScoresService:
    return ScoresService(programs=programs(), aggregates=aggregates(), clock=clock.current(), themes=aggregates())
