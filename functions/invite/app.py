"""invite: EventBridge business event -> survey invitation email (at most one per program and business key)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from npsloop.observability import logger
from npsloop.wiring import invite


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes = invite.invite_service().accept(event)
    return {"outcomes": [outcome.__dict__ for outcome in outcomes]}
