"""``GET /dashboard``: the overview for the view's filters, within the visitor's scope.

The filters live in the URL (``npsloop.domain.view_filters``); ``by=region`` switches the table to
regions and ``fragment=overview`` answers only the refreshable part (tiles, table, cases), which
``static/app.js`` polls every ``DASHBOARD_REFRESH_SECONDS``. Invalid filters are a friendly 400 page
with the reason, a segment outside the scope a friendly 403 page, and someone who reads no scores
gets an explanation and a link to their cases.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from npsloop import clock
from npsloop.domain.cases import CaseStatus
from npsloop.domain.scope import ScopeDenied
from npsloop.domain.view_filters import GROUP_SCORES, SEGMENT_KEYS, InvalidFilters, ViewFilters
from npsloop.formats import Formats
from npsloop.observability import logger
from npsloop.pages.case_pages import sla_state
from npsloop.pages.site import Visitor, page, visitor
from npsloop.pages.static_files import url
from npsloop.ports.cases import CaseQuery
from npsloop.rendering import strings
from npsloop.services.cases import CaseForbidden
from npsloop.services.dashboard import Baseline, NoScoreReach, Overview
from npsloop.wiring import container
from npsloop.wiring import web as wiring

router = APIGatewayHttpRouter()
CHART = "chart-4.6.1.umd.min.js"
PAGE_PARAMS = ("fragment", "by")  # the page's own, not the view's filters
OPEN_CASES = 100  # the open cases counted per view (the list links to all of them)
URGENT = 5  # the most urgent cases listed


def _cases(who: Visitor, view: Overview) -> dict[str, Any] | None:
    """The open cases in the view's scope: SLA state counts and the most urgent few (overdue first)."""
    if not who.scope.reads_cases:
        return None
    dimension, value = view.segment
    store = value if dimension == "store" and who.scope.may_list_store_cases(value) else None
    try:
        found = container.quiet_case_service().find(
            CaseQuery(status=CaseStatus.OPEN, store=store, limit=OPEN_CASES), who.scope
        )
    except CaseForbidden:
        return None
    now = clock.current().now()
    cases = [c for c in found.cases if dimension != "region" or c.region == value or c.store in _stores(view)]
    states = {c.case_id: sla_state(c, now) for c in cases}
    counts = {state: sum(1 for s in states.values() if s == state) for state in ("due", "overdue", "escalated")}
    urgent = sorted(cases, key=lambda c: (states[c.case_id] not in ("overdue", "escalated"), c.sla_due_at))[:URGENT]
    return {"counts": counts, "urgent": urgent, "states": states, "more": found.next_start is not None,
            "store": store}  # fmt: skip


def _stores(view: Overview) -> set[str]:
    return {g["value"] for g in view.table["groups"]} if view.by == "store" else set()


def _chart_data(view: Overview, locale: str) -> dict[str, Any]:
    """What dashboard.js draws: one point per period, its 95% band, whether it is a small sample; and the
    trend alert's baseline (a horizontal band) and recent window (shaded), labelled in the page's language."""
    fmt = Formats(locale)
    kind = view.filters.period.value
    data: dict[str, Any] = {
        "program": view.program.title(locale),
        "survey": view.program.survey.value,
        "decimal": "," if locale == "pl" else ".",
        "points": [
            {
                "label": fmt.tick(kind, p["from"]),
                "from": p["from"],
                "to": p["to"],
                "score": p["display"],
                "low": p["interval"]["low"] if p["interval"] else None,
                "high": p["interval"]["high"] if p["interval"] else None,
                "n": p["n"],
                "small": p["small_sample"],
            }
            for p in view.trend
        ],
        "baseline": None,
    }
    band = view.baseline
    if band is not None and band.trend.baseline.value is not None and not band.trend.baseline.small_sample:
        words = strings(locale)["app"]["dashboard"]["baseline"]
        base = band.trend.baseline
        data["baseline"] = {
            "score": base.value,
            "low": base.low,
            "high": base.high,
            "label": words["band_label"].format(span=_span(band, fmt, words), days=band.rule.recent_days),
            "recent_from": band.recent_first.isoformat(),
            "recent_to": band.recent_last.isoformat(),
            "short": words["band_short"],
            "recent_label": words["recent_label"].format(days=band.rule.recent_days),
        }
    return data


def _span(band: Baseline, fmt: Formats, words: dict[str, Any]) -> str:
    """The baseline window's length in words: "8 weeks" / "8 tygodni" (days when not whole weeks)."""
    weeks = band.baseline_weeks
    return fmt.count(weeks, words["weeks"]) if weeks else fmt.count(band.rule.baseline_days, words["days"])


@router.get("/dashboard")
def dashboard() -> Response:
    event = router.current_event
    who = visitor(event)
    params = dict(event.query_string_parameters or {})
    fragment = params.pop("fragment", None)
    by = params.pop("by", None) or "store"
    try:
        filters = ViewFilters.parse(params)
        view = wiring.dashboard_service().overview(filters, who.scope, by, with_trend=fragment is None)
    except NoScoreReach:
        return page(200, "dashboard", who.locale, visitor=who, problem="no_scores", scope_text=who.reach)
    except InvalidFilters as exc:
        return page(400, "dashboard", who.locale, visitor=who, problem="invalid", reason=str(exc))
    except ScopeDenied as exc:
        logger.info("dashboard refused: outside the scope")
        return page(403, "dashboard", who.locale, visitor=who, problem="forbidden", reason=str(exc),
                    scope_text=who.reach)  # fmt: skip
    segment_key = view.segment[0] if view.segment[0] in SEGMENT_KEYS else "ctx." + view.segment[0]
    context: dict[str, Any] = {
        "visitor": who,
        "problem": None,
        "view": view,
        "f": view.filters,
        "by": view.by,
        "segment_key": segment_key,
        "groups": GROUP_SCORES[view.program.survey],
        "cases": _cases(who, view),
        "refresh": container.settings().dashboard_refresh_seconds,
        "live_src": _page_href(view, fragment="overview"),
        "table_href": lambda by: _page_href(view, by=by),
        "span": lambda band: _span(band, Formats(who.locale), strings(who.locale)["app"]["dashboard"]["baseline"]),
    }
    if fragment == "overview":
        return page(200, "_dashboard_overview", who.locale, **context)
    programs = container.programs().program
    # The filter offers the stores (regions) routing.toml names and those the table found answers for (a store
    # need not be in routing.toml to be counted), all within the scope: the table's groups are already scoped.
    found = {g["value"] for g in view.table["groups"]}
    routed = container.routing().store
    stores = sorted({s.id for s in routed if who.scope.may_read_store(s.id)} | (found if view.by == "store" else set()))
    regions = sorted(
        {s.region for s in routed if s.region and who.scope.may_read_region(s.region)}
        | (found if view.by == "region" else set())
    )
    funnel = wiring.funnel_service().funnel(view.program.id, view.segment, view.first, view.last)
    return page(200, "dashboard", who.locale, programs=programs, stores=stores, regions=regions, funnel=funnel,
                chart=_chart_data(view, who.locale), chart_js=url(CHART), dashboard_js=url("dashboard.js"),
                **context)  # fmt: skip


def _page_href(view: Overview, **extra: str) -> str:
    """This dashboard view's URL with the page's own parameters (``by`` when not the default, ``fragment``)."""
    href = view.filters.href("/dashboard")
    extra = {"by": view.by, **extra}
    if extra["by"] == "store":
        del extra["by"]
    return href + (("&" if "?" in href else "?") + urlencode(extra) if extra else "")
