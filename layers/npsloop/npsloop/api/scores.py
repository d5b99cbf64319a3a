"""GET /api/programs/{program_id}/scores: scores with intervals and changes, from the aggregates.

Described in docs/openapi.yaml. Errors are JSON ``{"error": code, "message": reason}``: 400 for a
query that cannot be answered (unknown parameter, bad date, ``from`` after ``to``, a range over
400 days, a dimension the program does not have, a ``min_sample`` below the configured floor), 401
without a verified caller, 403 for a caller
in neither npsloop-analyst nor npsloop-admin (scores span every store of a program), 404 for an
unknown program.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import ValidationError

from npsloop.api.auth import caller
from npsloop.api.replies import ok, problem, reasons
from npsloop.observability import logger
from npsloop.services.scores import InvalidQuery, ScoreQuery, UnknownProgram
from npsloop.wiring import api

router = APIGatewayHttpRouter()


@router.get("/api/programs/<program_id>/scores")
def get_scores(program_id: str) -> Response:
    try:
        who = caller(router.current_event)
    except UnauthorizedError as exc:
        return problem(401, "unauthorized", str(exc.msg))
    if not who.may_read_scores:
        return problem(403, "forbidden", "reading scores needs the npsloop-analyst or npsloop-admin group")
    params = router.current_event.query_string_parameters or {}
    try:
        query = ScoreQuery.model_validate(params)
        body = api.scores_service().scores(program_id, query)
    except ValidationError as exc:
        return problem(400, "invalid_request", reasons(exc, "query"))
    except InvalidQuery as exc:
        return problem(400, "invalid_request", str(exc))
    except UnknownProgram:
        return problem(404, "unknown_program", f"no program {program_id!r}")
    logger.info("scores served", program_id=program_id, subject=who.subject, groups=len(body["groups"]))
    return ok(body, cache_control="private, max-age=60")
