"""The case API: list, read and update follow-up cases (docs/openapi.yaml).

- ``GET /api/cases?owner=&store=&status=&limit=&next=``: at least one of owner, store or status;
  paged with an opaque ``next`` cursor, signed (``npsloop.domain.cursors``): any other value is 400.
  Each caller sees only the cases its scope reaches (``npsloop.domain.scope``, config/roles.toml):
  every case for a CX lead or an admin, its region's or store's for a regional or store manager,
  and the cases anyone owns or manages; an analyst none. ``store`` outside the scope is 403.
- ``GET /api/cases/{case_id}`` and ``PATCH /api/cases/{case_id}`` (``{status?, note?, root_cause?,
  expected_version?}``): a case outside the caller's scope is 403.

Errors are JSON ``{"error": code, "message": reason}``: 400 bad request, 401 no verified caller,
403 outside the caller's scope, 404 unknown case, 409 version conflict, 422 an update the case rules
refuse (invalid transition, unknown root cause, resolving without a root cause). A case's
``customer_id``, ``comment`` and ``contact`` are left out for a caller who may not see personal data.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from npsloop.api.auth import scope
from npsloop.api.replies import ok, problem, reasons
from npsloop.domain.cases import Case, CaseStatus, InvalidCaseUpdate
from npsloop.domain.cursors import InvalidCursor, open_cursor, sign_cursor
from npsloop.domain.scope import Scope
from npsloop.observability import logger
from npsloop.ports.cases import CaseQuery, VersionConflict
from npsloop.services.cases import CaseForbidden, CaseNotFound, CaseUpdate
from npsloop.wiring import container

router = APIGatewayHttpRouter()
MAX_PAGE = 100


class ListParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    store: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    status: CaseStatus | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 25
    next: Annotated[str, Field(max_length=2000)] | None = None


class PatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: CaseStatus | None = None
    note: Annotated[str, Field(max_length=4000)] | None = None
    root_cause: Annotated[str, Field(max_length=64)] | None = None
    expected_version: Annotated[int, Field(ge=1)] | None = None


PERSONAL_FIELDS = frozenset({"customer_id", "comment", "contact"})


def representation(case: Case, who: Scope) -> dict[str, Any]:
    hidden = {"closed_event_pending"} | (set() if who.may_see_personal_data(case) else PERSONAL_FIELDS)
    return case.model_dump(mode="json", exclude=hidden)


def cursor_scope(params: ListParams, who: Scope) -> str:
    """What a cursor is valid for: the same filters, seen with the same reach."""
    status = params.status.value if params.status else None
    return json.dumps([params.owner, params.store, status, who.fingerprint])


def request_base_url(event: dict[str, Any]) -> str | None:
    """The API's base URL as this request reached it: scheme, host and (unless ``$default``) stage.

    The API function cannot be given its own API's URL in the template (a cycle), so links it
    builds - the CaseClosed event's ``case_url`` - come from the request when no public base URL
    is configured. None if the event does not say.
    """
    context = event.get("requestContext") or {}
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    host = context.get("domainName") or headers.get("host")
    if not host or not re.fullmatch(r"[A-Za-z0-9.-]+(:\d{1,5})?", host):
        return None
    scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip().lower()
    scheme = scheme if scheme in {"http", "https"} else "https"
    stage = context.get("stage")
    path = f"/{stage}" if stage and stage != "$default" and re.fullmatch(r"[A-Za-z0-9_-]+", stage) else ""
    return f"{scheme}://{host}{path}"


def _who() -> Scope:
    return scope(router.current_event)


@router.get("/api/cases")
def list_cases() -> Response:
    try:
        who = _who()
    except UnauthorizedError as exc:
        return problem(401, "unauthorized", str(exc.msg))
    try:
        params = ListParams.model_validate(router.current_event.query_string_parameters or {})
        if not (params.owner or params.store or params.status):
            return problem(400, "invalid_request", "give at least one of owner, store or status")
        keys = container.link_keys().signing_keys() if params.next else None
        start = open_cursor(keys, cursor_scope(params, who), params.next) if keys and params.next else None
    except InvalidCursor as exc:
        return problem(400, "invalid_cursor", f"next: {exc}")
    except ValidationError as exc:
        return problem(400, "invalid_request", reasons(exc))
    except ValueError as exc:
        return problem(400, "invalid_request", str(exc))
    query = CaseQuery(owner=params.owner, store=params.store, status=params.status, limit=params.limit, start=start)
    try:
        page = container.quiet_case_service().find(query, who)
    except CaseForbidden as exc:
        return problem(403, "forbidden", str(exc))
    keys = container.link_keys().signing_keys() if page.next_start else None
    cursor = sign_cursor(keys, cursor_scope(params, who), page.next_start) if keys else None
    return ok({"cases": [representation(c, who) for c in page.cases], "next": cursor})


@router.get("/api/cases/<case_id>")
def get_case(case_id: str) -> Response:
    try:
        who = _who()
        return ok(representation(container.quiet_case_service().get(case_id, who), who))
    except UnauthorizedError as exc:
        return problem(401, "unauthorized", str(exc.msg))
    except CaseNotFound:
        return problem(404, "unknown_case", f"no case {case_id!r}")
    except CaseForbidden as exc:
        return problem(403, "forbidden", str(exc))


@router.patch("/api/cases/<case_id>")
def update_case(case_id: str) -> Response:
    try:
        who = _who()
        body = PatchBody.model_validate(_json_body())
        case = container.quiet_case_service().update(
            case_id,
            who,
            CaseUpdate(
                status=body.status, note=body.note, root_cause=body.root_cause, expected_version=body.expected_version
            ),
            request_base_url=request_base_url(router.current_event.raw_event),
        )
    except UnauthorizedError as exc:
        return problem(401, "unauthorized", str(exc.msg))
    except ValidationError as exc:
        return problem(400, "invalid_request", reasons(exc))
    except ValueError as exc:
        if isinstance(exc, InvalidCaseUpdate):
            logger.info("case update refused", case_id=case_id, code=exc.code)
            return problem(422, exc.code, exc.reason)
        return problem(400, "invalid_request", str(exc))
    except CaseNotFound:
        return problem(404, "unknown_case", f"no case {case_id!r}")
    except CaseForbidden as exc:
        return problem(403, "forbidden", str(exc))
    except VersionConflict as exc:
        return problem(409, "version_conflict", f"the case is at version {exc.current}: read it again and retry")
    return ok(representation(case, who))


def _json_body() -> Any:
    raw = router.current_event.decoded_body
    if not raw:
        raise ValueError("the body must be a JSON object")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ValueError("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body
