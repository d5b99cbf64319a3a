"""GET /api/programs/{program_id}/scores: scores with intervals and changes, from the aggregates.

Described in docs/openapi.yaml. Errors are JSON ``{"error": code, "message": reason}``: 400 for a
query that cannot be answered (unknown parameter, bad date, ``from`` after ``to``, a range over
400 days, a dimension the program does not have, a ``min_sample`` below the configured floor), 401
without a verified caller, 403 when the caller's scope (``npsloop.domain.scope``) does not reach what
is asked: a store or region outside it, a dimension that spans every store, or no store scope at all;
404 for an unknown program.

The answer holds only the caller's scope: ``group_by=store`` lists the stores it reaches, and any
store-scoped caller may read the overall score (the network's average) to compare with.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import ValidationError

from npsloop.api.auth import scope
from npsloop.api.replies import ok, problem, reasons
from npsloop.domain.scope import ScopeDenied
from npsloop.observability import logger
from npsloop.services.scores import InvalidQuery, ScoreQuery, UnknownProgram
from npsloop.wiring import api

router = APIGatewayHttpRouter()


@router.get("/api/programs/<program_id>/scores")
def get_scores(program_id: str) -> Response:
    try:
        who = scope(router.current_event)
    except UnauthorizedError as exc:
        return problem(401, "unauthorized", str(exc.msg))
    params = router.current_event.query_string_parameters or {}
    try:
        query = ScoreQuery.model_validate(params)
        allowed = who.score_groups(query.group_by, query.value)
        if allowed is not None and query.value is None and len(allowed) == 1:
            query = query.model_copy(update={"value": next(iter(allowed))})  # read one group, not all
        body = api.scores_service().scores(program_id, query)
    except ScopeDenied as exc:
        return problem(403, "forbidden", str(exc))
    except ValidationError as exc:
        return problem(400, "invalid_request", reasons(exc, "query"))
    except InvalidQuery as exc:
        return problem(400, "invalid_request", str(exc))
    except UnknownProgram:
        return problem(404, "unknown_program", f"no program {program_id!r}")
    if allowed is not None:
        body = {**body, "groups": [g for g in body["groups"] if g["value"] in allowed]}
    logger.info("scores served", program_id=program_id, subject=who.subject, groups=len(body["groups"]))
    return ok(body, cache_control="private, max-age=60")
