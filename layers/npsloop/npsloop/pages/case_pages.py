"""The case pages: ``GET /cases`` (my cases), ``GET /cases/{case_id}`` and ``POST /cases/{case_id}`` (work it).

Every route asks ``npsloop.pages.site.visitor`` (signed in, or off to the sign-in) and then the
caller's ``Scope`` through the case service: a case outside the scope is a friendly 403 page, even
for a URL edited by hand. The form posts status, root cause and note with the version it was read
at (optimistic concurrency) and the session's CSRF token; success redirects back (303) to the page,
a refused change re-shows the form with the reason (422), someone else's change with the case as it
is now (409).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from npsloop import clock, web
from npsloop.api.cases import request_base_url
from npsloop.domain.cases import TRANSITIONS, Case, CaseStatus, InvalidCaseUpdate
from npsloop.domain.cursors import InvalidCursor, open_cursor, sign_cursor
from npsloop.domain.surveys import SCALES
from npsloop.formats import Formats
from npsloop.observability import logger
from npsloop.pages.site import Visitor, page, redirect, visitor
from npsloop.ports.cases import CaseQuery, VersionConflict
from npsloop.rendering import strings
from npsloop.services.cases import CaseForbidden, CaseNotFound, CaseUpdate
from npsloop.wiring import container
from npsloop.wiring import web as wiring

router = APIGatewayHttpRouter()
PAGE_SIZE = 25


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    kind: str  # opened | status | note | answer | escalated
    text: str
    detail: str | None = None


def _local(instant: datetime, zone: str, locale: str) -> str:
    return Formats(locale).moment(instant, zone)


def sla_state(case: Case, now: datetime) -> str:
    if case.status.final:
        return "closed"
    if case.escalated_at is not None:
        return "escalated"
    if case.contact_attempted_at is not None or not case.status.sla_running:
        return "met"
    return "overdue" if case.overdue(now) else "due"


def history(case: Case, a: dict[str, Any]) -> list[HistoryEntry]:
    names = a["status_name"]
    entries = []
    for change in case.history:
        if change.from_status is None:
            entries.append(HistoryEntry(change.at, "opened", a["history_opened"].format(by=change.by)))
        else:
            text = a["history_status"].format(
                by=change.by, from_status=names[change.from_status.value], to_status=names[change.to_status.value]
            )
            entries.append(HistoryEntry(change.at, "status", text))
    entries += [HistoryEntry(n.at, "note", a["history_note"].format(by=n.author), n.text) for n in case.notes]
    entries += [
        HistoryEntry(c.at, "answer", a["history_answer"].format(from_score=c.from_score, to_score=c.to_score))
        for c in case.answer_changes
    ]
    if case.escalated_at is not None:
        entries.append(
            HistoryEntry(case.escalated_at, "escalated", a["history_escalated"].format(manager=case.manager.id))
        )
    return sorted(entries, key=lambda e: e.at)


def _error_text(exc: InvalidCaseUpdate, case: Case, wanted: str | None, locale: str) -> str:
    a = strings(locale)["app"]
    if locale == "en":
        return a["invalid"].format(reason=exc.reason)
    detail = a.get("error", {}).get(exc.code)
    if detail is None:
        return a["invalid"].format(reason=exc.reason)
    names = a["status_name"]
    allowed = ", ".join(names[s.value] for s in sorted(TRANSITIONS[case.status])) or "-"
    return a["invalid"].format(
        reason=detail.format(current=names[case.status.value], wanted=names.get(wanted or "", wanted), allowed=allowed)
    )


def _case_page(status: int, who: Visitor, case: Case, **extra: Any) -> Response:
    a = strings(who.locale)["app"]
    now = clock.current().now()
    return page(
        status,
        "case",
        who.locale,
        visitor=who,
        case=case,
        high=SCALES[case.survey_type].high,
        personal=who.scope.may_see_personal_data(case),
        contact_text=strings(who.locale)["contact"],
        may_change=who.scope.may_change_case(case),
        sla=sla_state(case, now),
        due=_local(case.sla_due_at, case.time_zone, who.locale),
        opened=_local(case.opened_at, case.time_zone, who.locale),
        zone=case.time_zone,
        moves=sorted(TRANSITIONS[case.status], key=lambda s: list(CaseStatus).index(s)),
        root_causes=container.alert_rules().cases.root_causes,
        history=history(case, a),
        local=lambda instant: _local(instant, case.time_zone, who.locale),
        error=extra.pop("error", None),
        form=extra.pop("form", {}),
        saved=extra.pop("saved", False),
        **extra,
    )


def _refusal(status: int, who: Visitor, kind: str, **context: Any) -> Response:
    return page(status, "message", who.locale, visitor=who, kind=kind, scope_text=who.reach, **context)


@router.get("/cases/<case_id>")
def case_page(case_id: str) -> Response:
    who = visitor(router.current_event)
    try:
        case = container.quiet_case_service().get(case_id, who.scope)
    except CaseNotFound:
        return _refusal(404, who, "not_found")
    except CaseForbidden:
        logger.info("case page refused: outside the scope", case_id=case_id)
        return _refusal(403, who, "forbidden")
    return _case_page(200, who, case, saved=router.current_event.get_query_string_value("saved") == "1")


@router.post("/cases/<case_id>")
def work_case(case_id: str) -> Response:
    who = visitor(router.current_event)
    form = {k: v[0] for k, v in parse_qs(web.form_body(router.current_event) or "", keep_blank_values=True).items()}
    service = container.quiet_case_service()
    try:
        case = service.get(case_id, who.scope)
    except CaseNotFound:
        return _refusal(404, who, "not_found")
    except CaseForbidden:
        return _refusal(403, who, "forbidden")
    a = strings(who.locale)["app"]
    if not wiring.sign_in().csrf_ok(who.session, form.get("csrf")):
        return _case_page(403, who, case, error=a["csrf"], form=form)
    wanted = form.get("status") or None
    cause = form.get("root_cause") or None
    note = form.get("note") or None
    try:
        version = int(form.get("expected_version", ""))
        update = CaseUpdate(
            status=CaseStatus(wanted) if wanted else None,
            note=note,
            root_cause=cause if cause != case.root_cause else None,
            expected_version=version,
        )
        service.update(case_id, who.scope, update, request_base_url=request_base_url(router.current_event.raw_event))
    except VersionConflict:
        return _case_page(409, who, service.get(case_id, who.scope), error=a["conflict"], form=form)
    except InvalidCaseUpdate as exc:
        logger.info("case page: change refused", case_id=case_id, code=exc.code)
        return _case_page(422, who, case, error=_error_text(exc, case, wanted, who.locale), form=form)
    except ValueError:  # a status or version that is not one (a hand-made form)
        return _case_page(400, who, case, error=a["invalid"].format(reason=form.get("status") or "?"), form=form)
    except CaseForbidden:
        return _refusal(403, who, "forbidden")
    return redirect(f"/cases/{case_id}?saved=1")  # 302 after POST: the browser GETs it (303 semantics)


def _cursor_scope(status: str, store: str | None, who: Visitor) -> str:
    return json.dumps(["case-page", status, store, who.scope.fingerprint])


@router.get("/cases")
def my_cases() -> Response:
    event = router.current_event
    who = visitor(event)
    status_text = event.get_query_string_value("status") or CaseStatus.OPEN.value
    store = event.get_query_string_value("store") or None
    overdue_only = event.get_query_string_value("overdue") == "1"
    cursor = event.get_query_string_value("next")
    try:
        status = CaseStatus(status_text)
        start = (
            open_cursor(container.link_keys().signing_keys(), _cursor_scope(status.value, store, who), cursor)
            if cursor
            else None
        )
    except (ValueError, InvalidCursor):
        return redirect("/cases")  # a stale or hand-made filter: start from the default list
    query = CaseQuery(store=store, status=status, limit=PAGE_SIZE, start=start)
    try:
        found = container.quiet_case_service().find(query, who.scope)
    except CaseForbidden:
        return _refusal(403, who, "forbidden_list")
    now = clock.current().now()
    rows = [c for c in found.cases if not overdue_only or c.overdue(now)]
    rows.sort(key=lambda c: (not c.overdue(now), c.sla_due_at))
    next_cursor = (
        sign_cursor(container.link_keys().signing_keys(), _cursor_scope(status.value, store, who), found.next_start)
        if found.next_start
        else None
    )
    params = {
        "status": status.value,
        **({"store": store} if store else {}),
        **({"overdue": "1"} if overdue_only else {}),
    }
    stores = [s.id for s in container.routing().store if who.scope.may_read_store(s.id)]
    return page(
        200,
        "cases",
        who.locale,
        visitor=who,
        cases=rows,
        states={c.case_id: sla_state(c, now) for c in rows},
        due={c.case_id: _local(c.sla_due_at, c.time_zone, who.locale) for c in rows},
        status=status.value,
        statuses=list(CaseStatus),
        store=store,
        stores=stores,
        overdue_only=overdue_only,
        next_url=f"/cases?{urlencode({**params, 'next': next_cursor})}" if next_cursor else None,
        scope_text=who.reach,
    )
