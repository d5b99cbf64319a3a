"""invite_sweep: every 15 minutes - settle invitations still pending after every retry of their event."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from npsloop import runtime
from npsloop.observability import logger


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return runtime.invitation_sweep().sweep()
