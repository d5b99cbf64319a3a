"""The answers behind a view: ``GET /answers`` (a page of 25, newest first), ``GET /answers.csv`` (all of
them, as a download) and ``GET /answers/latest`` (the 5 newest, a fragment the dashboard polls).

All three read the view's filters (``ViewFilters``, the dashboard's URL) and ask the answer service
for the caller's plan: a store or region outside the scope is a friendly 403, a plain case owner
(no store scope) an explanation, an analyst sees scores, dates, stores and channels but no comment
or customer id. ``/answers/latest`` is fetched by script: signed out, it answers 401, not a redirect.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from npsloop import clock
from npsloop.domain.answers import highlight
from npsloop.domain.cursors import InvalidCursor, open_cursor, sign_cursor
from npsloop.domain.responses import Response as Answer
from npsloop.domain.responses import masked_comment
from npsloop.domain.view_filters import InvalidFilters, ScoreGroup, ViewFilters, group_of
from npsloop.formats import Formats
from npsloop.observability import logger
from npsloop.pages.site import SignInRequired, Visitor, page, visitor
from npsloop.rendering import strings
from npsloop.services.answers import LIVE_SIZE, AnswerPlan, AnswersRefused, answers_csv
from npsloop.wiring import container
from npsloop.wiring import web as wiring

router = APIGatewayHttpRouter()


@dataclass(frozen=True)
class AnswerRow:
    answer: Answer
    when: str  # in the store's time zone, the visitor's format
    iso: str
    group: str
    parts: list[tuple[str, bool]] | None  # the comment in plain and matched parts; None: not shown
    case_url: str | None


def _params() -> dict[str, str]:
    return dict(router.current_event.query_string_parameters or {})


def _cursor_scope(view: ViewFilters, who: Visitor) -> str:
    return json.dumps(["answers", view.query(), who.scope.fingerprint])


def _rows(answers: list[Answer], plan: AnswerPlan, who: Visitor) -> list[AnswerRow]:
    cases = wiring.answers().cases_among(answers, who.scope)
    routing = container.routing()
    fmt = Formats(who.locale)
    rows = []
    for answer in answers:
        zone = routing.route(answer.context).time_zone
        # Masked: the words as written are for the case owner, on the case page (issue 12).
        shown = masked_comment(answer) if plan.personal else None
        parts = highlight(shown, plan.query) if shown else None
        rows.append(
            AnswerRow(
                answer=answer,
                when=fmt.moment(answer.created_at, zone),
                iso=answer.created_at.astimezone(UTC).isoformat(),
                group=group_of(answer.survey_type, answer.score).value,
                parts=parts,
                case_url=f"/cases/{answer.invitation_id}" if answer.invitation_id in cases else None,
            )
        )
    return rows


def _plan(view: ViewFilters, who: Visitor) -> AnswerPlan:
    return wiring.answers().plan(view, who.scope, clock.current().now().date())


def _answers_page(status: int, who: Visitor, **context: Any) -> Response:
    context.setdefault("view", ViewFilters())
    context.setdefault("plan", None)
    context.setdefault("rows", [])
    context.setdefault("refusal", None)
    context.setdefault("error", None)
    context.setdefault("next_url", None)
    context.setdefault("first_url", None)
    stores = [s.id for s in container.routing().store if who.scope.may_read_store(s.id)]
    try:  # the days shown, said in words: the form's dates are empty when the view names none
        window = context["view"].window(clock.current().now().date())
    except InvalidFilters:
        window = None
    return page(status, "answers", who.locale, visitor=who, stores=stores, groups=list(ScoreGroup),
                scope_text=who.reach, window=window, **context)  # fmt: skip


@router.get("/answers")
def answers_list() -> Response:
    who = visitor(router.current_event)
    params = _params()
    try:
        view = ViewFilters.parse(params)
        plan = _plan(view, who)
        cursor = params.get("cursor")
        before = (
            open_cursor(container.link_keys().signing_keys(), _cursor_scope(view, who), cursor)["before"]
            if cursor
            else None
        )
    except InvalidFilters as exc:
        return _answers_page(400, who, error=str(exc))
    except (InvalidCursor, KeyError):
        return _answers_page(
            400, who, view=ViewFilters.parse(params), error=strings(who.locale)["app"]["answers"]["stale_cursor"]
        )
    except AnswersRefused as exc:
        logger.info("answers page refused", kind=exc.kind)
        view = ViewFilters.parse(params)
        return _answers_page(403 if exc.kind != "no_scores" else 200, who, view=view, refusal=exc)
    found = wiring.answers().page(plan, before)
    next_url = None
    if found.next_before:
        token = sign_cursor(
            container.link_keys().signing_keys(), _cursor_scope(view, who), {"before": found.next_before}
        )
        next_url = f"/answers?{urlencode({**view.query(), 'cursor': token})}"
    return _answers_page(
        200, who, view=view, plan=plan, rows=_rows(found.answers, plan, who), next_url=next_url,
        first_url=view.href("/answers") if before else None,
    )  # fmt: skip


@router.get("/answers.csv")
def answers_download() -> Response:
    who = visitor(router.current_event)
    params = _params()
    try:
        view = ViewFilters.parse(params)
        plan = _plan(view, who)
    except InvalidFilters as exc:
        return _answers_page(400, who, error=str(exc))
    except AnswersRefused as exc:
        return _answers_page(403 if exc.kind != "no_scores" else 200, who, view=ViewFilters.parse(params), refusal=exc)
    first, last = view.window(clock.current().now().date())
    note = strings(who.locale)["app"]["answers"]["csv_cut"]
    service = wiring.answers()
    csv_file = answers_csv(service.everything(plan), plan, note)
    logger.info("answers downloaded", rows=csv_file.rows, truncated=csv_file.truncated)
    headers = {
        "Content-Disposition": f"attachment; filename=answers-{plan.program.id}-{first}-{last}.csv",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if csv_file.truncated:
        headers["X-Npsloop-Truncated"] = "true"
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=csv_file.text, headers=headers)


@router.get("/answers/latest")
def answers_latest() -> Response:
    try:
        who = visitor(router.current_event)
    except SignInRequired:
        return Response(status_code=401, content_type="text/plain; charset=utf-8", body="sign in again",
                        headers={"Cache-Control": "no-store"})  # fmt: skip
    params = _params()
    try:
        view = ViewFilters.parse(params)
        plan = _plan(view, who)
    except InvalidFilters as exc:
        response = page(
            400, "answers_latest", who.locale, visitor=who, rows=[], error=str(exc), refusal=None, view=ViewFilters()
        )
    except AnswersRefused as exc:
        response = page(
            403, "answers_latest", who.locale, visitor=who, rows=[], error=None, refusal=exc, view=ViewFilters()
        )
    else:
        found = wiring.answers().page(plan, size=LIVE_SIZE, max_rounds=1)
        response = page(200, "answers_latest", who.locale, visitor=who, rows=_rows(found.answers, plan, who),
                        error=None, refusal=None, view=view)  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response
