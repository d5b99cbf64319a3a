"""invite_sweep: every 15 minutes - settle invitations still pending after every retry of their event."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from npsloop.observability import logger
from npsloop.wiring import invite_sweep


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return invite_sweep.invitation_sweep().sweep()
