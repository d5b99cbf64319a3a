"""analyse: response comments on the table's stream -> their analysis (sentiment, themes, masked text) on the item."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from npsloop.observability import logger
from npsloop.wiring import analyse


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = analyse.analyse_service().handle(event)
    logger.info(
        "batch analysed",
        analysed=outcome.analysed,
        refused=outcome.refused,
        skipped=outcome.skipped,
        parked=outcome.parked,
        failures=len(outcome.failures),
    )
    return outcome.response()
