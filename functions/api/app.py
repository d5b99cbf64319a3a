"""api: the authorised JSON API - scores from the aggregates, and the follow-up cases."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from npsloop.api import cases, scores
from npsloop.api.replies import problem, reasons
from npsloop.observability import logger

app = APIGatewayHttpResolver()
app.include_router(scores.router)
app.include_router(cases.router)


@app.exception_handler(ValidationError)
def invalid_request(exc: ValidationError) -> Response:
    described = reasons(exc)
    logger.info("invalid api request", reasons=described)
    return problem(400, "invalid_request", described)


@app.not_found
def not_found(exc: NotFoundError) -> Response:
    return problem(404, "not_found", "no such resource")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
