"""The report's sections, each a pure function of the aggregates (or cases) of one unit and period.

The numbers come from ``npsloop.services.scores.ScoresService`` answers (exact scores, 95% intervals,
change against the previous period with Benjamini-Hochberg across the answer, small samples flagged):
the sections only pick and shape them. A small sample is shown as such and never ranked; a period
without answers is ``None``, never a zero. The funnel shapes ``FunnelService``'s ``Funnel``; the comments
pick a few answers of the answer index and mask them (``npsloop.text.masking.mask``) for every reader.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from npsloop.domain.cases import Case
from npsloop.domain.funnel import ANSWERED, BOUNCED, COMPLAINED, DELIVERED, Funnel
from npsloop.domain.responses import Response
from npsloop.domain.surveys import SurveyType
from npsloop.reports.charts import Bar, Point

TOP_ROOT_CAUSES = 3
LIMITS = {SurveyType.NPS: (-100.0, 100.0), SurveyType.CSAT: (0.0, 100.0), SurveyType.CES: (1.0, 7.0)}
SCALE_TOP = {SurveyType.NPS: 10, SurveyType.CSAT: 5, SurveyType.CES: 7}
NOTABLE_LOWEST, NOTABLE_HIGHEST = 2, 1  # the comments shown: the two lowest scores and the highest
COMMENT_CHARS = 280  # a longer comment is cut (after masking) with an ellipsis


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


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def funnel(found: Funnel) -> dict[str, Any]:
    """Sent, delivered, answered, the response rate (answered of sent), bounces and spam complaints of
    the period's invitations (a cohort: each counts on the day its invitation was created)."""
    stages = {stage.name: stage for stage in found.stages}
    problems = {problem.name: problem for problem in found.problems}
    return {
        "sent": found.invited,
        "delivered": stages[DELIVERED].count,
        "delivered_rate": _percent(stages[DELIVERED].of_invited),
        "answered": stages[ANSWERED].count,
        "response_rate": _percent(stages[ANSWERED].of_invited),
        "bounced": problems[BOUNCED].count,
        "bounce_rate": _percent(problems[BOUNCED].rate),
        "complained": problems[COMPLAINED].count,
    }


def _keep(best: list[Response], answer: Response, key: Any, size: int) -> None:
    best.append(answer)
    best.sort(key=key)
    del best[size:]


def notable(answers: Iterable[Response], time_zone: str) -> list[dict[str, Any]]:
    """A few notable comments of the period: the ``NOTABLE_HIGHEST`` highest scores with a comment and the
    ``NOTABLE_LOWEST`` lowest of the others (a tie goes to the newest), lowest first, each masked
    (``mask``) and cut to ``COMMENT_CHARS``. One pass: the answers may be a month of the network, read a
    page at a time."""
    from npsloop.text.masking import mask  # the worker alone loads the name lexicon, on its first comment

    def newest(a: Response) -> float:
        return -a.created_at.timestamp()

    lowest: list[Response] = []
    highest: list[Response] = []
    for answer in answers:
        if not answer.comment or not answer.comment.strip():
            continue
        _keep(lowest, answer, lambda a: (a.score, newest(a)), NOTABLE_LOWEST + NOTABLE_HIGHEST)
        _keep(highest, answer, lambda a: (-a.score, newest(a)), NOTABLE_HIGHEST)
    picked = [a for a in lowest if a not in highest][:NOTABLE_LOWEST] + highest
    out = []
    for answer in sorted(picked, key=lambda a: (a.score, newest(a))):
        text = re.sub(r"\s+", " ", mask(answer.comment or "").text).strip()
        if len(text) > COMMENT_CHARS:
            text = text[: COMMENT_CHARS - 1].rstrip() + "…"
        out.append(
            {
                "score": answer.score,
                "out_of": SCALE_TOP[answer.survey_type],
                "store": answer.context.get("store"),
                "day": answer.created_at.astimezone(ZoneInfo(time_zone)).date(),
                "text": text,
            }
        )
    return out
