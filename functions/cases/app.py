"""cases: every 15 minutes - escalate overdue cases, reopen unreachable ones due a retry, resend CaseClosed.

Daily (the ``TrendScan`` schedule, input ``{"task": "trend-scan"}``) - the trend alert's scan.
Every 15 minutes, 5 past (the ``Digests`` schedule, input ``{"task": "digests"}``) - the digests due.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from npsloop.observability import logger
from npsloop.wiring import cases


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("task") == "trend-scan":
        return cases.trend_service().scan()
    if event.get("task") == "digests":
        return cases.digest_service().send()
    return cases.sweep_service().sweep()
