"""alert: DynamoDB stream of responses -> alerts (SNS / email), follow-up cases and bus events, once each."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from npsloop.observability import logger
from npsloop.wiring import alert


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return alert.alert_service().handle(event)
