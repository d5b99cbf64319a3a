"""The report's sections, each a pure function of the aggregates (or cases) of one unit and period.

The numbers come from ``npsloop.services.scores.ScoresService`` answers (exact scores, 95% intervals,
change against the previous period with Benjamini-Hochberg across the answer, small samples flagged):
the sections only pick and shape them. A small sample is shown as such and never ranked; a period
without answers is ``None``, never a zero.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime
from typing import Any

from npsloop.domain.cases import Case
from npsloop.domain.surveys import SurveyType
from npsloop.reports.charts import Bar, Point

TOP_ROOT_CAUSES = 3
LIMITS = {SurveyType.NPS: (-100.0, 100.0), SurveyType.CSAT: (0.0, 100.0), SurveyType.CES: (1.0, 7.0)}


def _group(answer: dict[str, Any], value: str) -> dict[str, Any] | None:
    return next((g for g in answer["groups"] if g["value"] == value), None)


def _last(group: dict[str, Any] | None) -> dict[str, Any] | None:
    return group["periods"][-1] if group and group["periods"] else None


def _interval(entry: dict[str, Any]) -> tuple[float | None, float | None]:
    interval = entry.get("interval") or {}
    return interval.get("low"), interval.get("high")


def scores(answer: dict[str, Any], value: str) -> dict[str, Any]:
    """The unit's score in the reported period (the answer's last period): value, interval, answers,
    and its change against the period before, significant only after Benjamini-Hochberg."""
    entry = _last(_group(answer, value))
    if entry is None or not entry["n"]:
        return {"n": 0, "display": None, "low": None, "high": None, "small_sample": True, "change": None}
    low, high = _interval(entry)
    moved = entry["change"]
    return {
        "n": entry["n"],
        "display": entry["display"],
        "low": low,
        "high": high,
        "small_sample": entry["small_sample"],
        "change": None
        if moved is None or not moved["testable"]
        else {"delta": round(moved["delta"], 1), "significant": moved["significant"]},
    }


def trend(answer: dict[str, Any], value: str) -> list[Point]:
    """One point per period of the answer (oldest first); a period without answers is a gap."""
    group = _group(answer, value)
    points = []
    for entry in group["periods"] if group else []:
        low, high = _interval(entry)
        period = entry["period"]  # 2026-W48, 2026-11
        label = period.split("-", 1)[1] if "-W" in period else f"{period[5:7]}.{period[:4]}"
        n = entry["n"]
        points.append(Point(label, entry["score"] if n else None, low, high, entry["small_sample"] if n else False, n))
    return points


def comparison(
    own: dict[str, Any], parent: dict[str, Any] | None, children: list[tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    """The unit against its parent (store vs region, region vs network), and for a region or the network
    its children with intervals: ranked by the interval's lower bound, small samples listed apart."""
    rows = [{"id": child_id, **entry} for child_id, entry in children]
    ranked = sorted(
        (r for r in rows if r["n"] and not r["small_sample"] and r["low"] is not None),
        key=lambda r: (-r["low"], r["id"]),
    )
    unranked = sorted((r for r in rows if r not in ranked), key=lambda r: r["id"])
    for place, row in enumerate(ranked, start=1):
        row["rank"] = place
    for row in unranked:
        row["rank"] = None
    return {"own": own, "parent": parent, "children": ranked + unranked}


def bars(children: list[dict[str, Any]], highlight: str | None = None) -> list[Bar]:
    return [
        Bar(
            row["id"],
            None if not row["n"] or row["display"] is None else float(row["display"]),
            row["low"],
            row["high"],
            row["small_sample"],
            row["id"] == highlight,
        )
        for row in children
    ]


def cases(found: list[Case], start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """Opened and resolved in the period, overdue now, median hours to first contact of the period's
    cases, and the top root causes of the cases resolved in it."""
    opened = [c for c in found if start <= c.opened_at < end]
    resolved = [c for c in found if c.closed_at is not None and start <= c.closed_at < end]
    overdue = [c for c in found if not c.status.final and c.overdue(now)]
    waits = [
        (c.contact_attempted_at - c.opened_at).total_seconds() / 3600
        for c in opened
        if c.contact_attempted_at is not None
    ]
    causes = Counter(c.root_cause for c in resolved if c.root_cause)
    return {
        "opened": len(opened),
        "resolved": len(resolved),
        "overdue": len(overdue),
        "median_hours_to_contact": round(statistics.median(waits), 1) if waits else None,
        "root_causes": causes.most_common(TOP_ROOT_CAUSES),
    }
