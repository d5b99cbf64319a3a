"""guard: a reputation alarm (via the alarm topic) pauses email sending on the configuration set."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from npsloop.observability import logger
from npsloop.wiring.guard import sending_guard


@logger.inject_lambda_context(correlation_id_path="Records[0].Sns.MessageId", clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes = sending_guard().accept(event)
    return {"outcomes": [outcome.__dict__ for outcome in outcomes]}
