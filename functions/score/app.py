"""score: response changes on the table's stream -> per-day score aggregates, exactly once per change."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from npsloop.observability import logger
from npsloop.wiring import score


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    time_left = getattr(context, "get_remaining_time_in_millis", None)
    outcome = score.score_service().handle(event, time_left_ms=time_left)
    logger.info(
        "batch scored",
        applied_chunks=outcome.applied_chunks,
        replayed_chunks=outcome.replayed_chunks,
        resumed_chunks=outcome.resumed_chunks,
        updates=outcome.updates,
        parked=outcome.parked,
        counted_before=outcome.counted_before,
        state_bytes=outcome.state_bytes,
        failures=len(outcome.failures),
    )
    return outcome.response()
