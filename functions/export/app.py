"""export: DynamoDB stream (responses and invitations) -> gzip JSON lines in S3, dt= partitions, for Athena."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from npsloop.observability import logger
from npsloop.wiring.export import export_service


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return export_service().handle(event)
