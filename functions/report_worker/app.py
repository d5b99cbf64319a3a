"""report_worker: report jobs from SQS - render and send each report once (partial batch failures)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from npsloop.observability import logger
from npsloop.wiring import report_worker


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return report_worker.worker().handle_batch(event)
