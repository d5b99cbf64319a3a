"""Run the scheduled reports over a stretch of simulated time (for the demo and the tests).

The report schedules (``ScheduleV2`` events of the planner in template.yaml) fire by the stack's clock.
A clock that jumps over several Mondays fires a schedule once (missed runs coalesce, :mod:`.schedules`),
so a simulation of several weeks steps the clock to each occurrence in turn and drains after each, as
EventBridge Scheduler would have fired them one by one.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from . import moto_peek

__all__ = ["reports_sent", "run_scheduled_reports"]

PLANNER = "ReportPlannerFunction"


def run_scheduled_reports(stack: Any, until: datetime) -> Counter[str]:
    """Fire every report schedule's occurrences up to ``until`` (the clock must ``advance``); return the
    reports sent by this call, per report id."""
    before = reports_sent(stack)
    schedules = [s for s in stack.dispatcher.schedules if s.function.logical_id == PLANNER]
    while True:
        due = min((s.next_due for s in schedules if s.enabled and s.next_due is not None), default=None)
        if due is None or due > until:
            break
        if due > stack.clock.now():
            stack.clock.advance(due - stack.clock.now())
        stack.drain()
    if until > stack.clock.now():
        stack.clock.advance(until - stack.clock.now())
    return reports_sent(stack) - before


def reports_sent(stack: Any) -> Counter[str]:
    """Reports sent so far, per report id (the claims the worker recorded as sent). Only the claims are
    serialised: a year of imported history is tens of thousands of other items."""
    resolver = stack._require(stack._resolver)
    items = moto_peek.table_items(resolver.account_id, stack.region, stack.outputs["TableName"], _sent) or []
    return Counter(item["pk"]["S"].split("#")[1] for item in items)


def _sent(item: dict[str, Any]) -> bool:
    return str(item["pk"]).startswith("REPORT#") and item.get("status") == "sent"
