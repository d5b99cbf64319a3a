"""report_planner: a report's schedule fired - queue one job per recipient (EventBridge Scheduler input
``{"report": "<id of reports.toml>"}``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from npsloop.observability import logger
from npsloop.wiring import report_planner


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return report_planner.planner().plan(str(event.get("report", "")))
