"""GET /api/programs/{program_id}/scores: scores with intervals and changes, from the aggregates.

Described in docs/openapi.yaml. Errors are JSON ``{"error": code, "message": reason}``: 400 for a
query that cannot be answered (unknown parameter, bad date, ``from`` after ``to``, a range over
400 days, a dimension the program does not have), 401 without a verified caller, 404 for an
unknown program.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import ValidationError

from npsloop.api.auth import caller
from npsloop.observability import logger
from npsloop.services.scores import InvalidQuery, ScoreQuery, UnknownProgram
from npsloop.wiring import score

router = APIGatewayHttpRouter()


def _problem(status: int, code: str, message: str) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": code, "message": message},
        headers={"Cache-Control": "no-store"},
    )


def _invalid(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']).replace('from_', 'from') or 'query'}: {e['msg']}" for e in exc.errors()
    )


@router.get("/api/programs/<program_id>/scores")
def get_scores(program_id: str) -> Response:
    try:
        who = caller(router.current_event)
    except UnauthorizedError as exc:
        return _problem(401, "unauthorized", str(exc.msg))
    params = router.current_event.query_string_parameters or {}
    try:
        query = ScoreQuery.model_validate(params)
        body = score.scores_service().scores(program_id, query)
    except ValidationError as exc:
        return _problem(400, "invalid_request", _invalid(exc))
    except InvalidQuery as exc:
        return _problem(400, "invalid_request", str(exc))
    except UnknownProgram:
        return _problem(404, "unknown_program", f"no program {program_id!r}")
    logger.info("scores served", program_id=program_id, subject=who.subject, groups=len(body["groups"]))
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Cache-Control": "private, max-age=60"},
    )
