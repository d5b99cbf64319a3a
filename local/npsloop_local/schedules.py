"""``Schedule`` / ``ScheduleV2`` events: fire functions on ``rate(...)`` or ``cron(...)`` by the injected clock.

The first occurrence comes one period (or the next cron match) after the stack starts. When the
clock has jumped past several occurrences, a check fires once and moves on to the next future
occurrence (missed runs coalesce). Firing is an asynchronous invocation, like EventBridge's.
Supported cron syntax: ``*``, ``?``, numbers, names, ranges, lists and steps (not ``L``, ``W``, ``#``).
A ``ScheduleV2`` (EventBridge Scheduler) with ``ScheduleExpressionTimezone`` reads its cron in that
time zone, so ``cron(0 7 ? * MON *)`` in Europe/Warsaw fires at 06:00 UTC in winter and 05:00 UTC in
summer, as Scheduler does; a local time that does not exist on a spring-forward day fires at the
same wall-clock time shifted forward by the gap (zoneinfo's reading of it).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from .eventbridge import iso_seconds
from .functions import LambdaFunction

__all__ = ["CronExpression", "Schedule", "parse_rate"]

log = logging.getLogger(__name__)

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, 1)}
_DAYS = {name: i for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}


def parse_rate(expression: str) -> timedelta | None:
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNITS[match.group(2).rstrip("s")]


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int] | None:
    """The values a cron field allows; None for ``*`` / ``?`` (anything)."""
    if text in {"*", "?"}:
        return None
    values: set[int] = set()
    for part in text.upper().split(","):
        for item in re.split(r"[-/]", part):
            if item != "*" and not item.isdigit() and not (names and item in names):
                raise ValueError(f"cron field {text!r}: unsupported {item!r} (L, W and # are not supported locally)")
        range_part, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if range_part == "*":
            start, end = low, high
        elif "-" in range_part:
            first, last = range_part.split("-", 1)
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(range_part, names)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None) -> int:
    return names[text] if names and text in names else int(text)


@dataclass(frozen=True)
class CronExpression:
    """AWS's six-field cron: minutes hours day-of-month month day-of-week year (UTC)."""

    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    days: frozenset[int] | None
    months: frozenset[int] | None
    weekdays: frozenset[int] | None
    years: frozenset[int] | None

    @classmethod
    def parse(cls, expression: str) -> CronExpression:
        inner = expression.strip().removeprefix("cron(").removesuffix(")")
        parts = inner.split()
        if len(parts) != 6:
            raise ValueError(f"{expression!r}: AWS cron has six fields")
        return cls(
            _field(parts[0], 0, 59),
            _field(parts[1], 0, 23),
            _field(parts[2], 1, 31),
            _field(parts[3], 1, 12, _MONTHS),
            _field(parts[4], 1, 7, _DAYS),
            _field(parts[5], 1970, 2199),
        )

    def next_after(self, instant: datetime, zone: tzinfo = UTC) -> datetime:
        """The first matching minute strictly after ``instant``, the fields read as wall-clock time in
        ``zone``; returned in UTC."""
        start = instant.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.astimezone(zone).replace(hour=0, minute=0, tzinfo=None)
        for _ in range(366 * 5):
            if self._day_matches(day):
                for hour in sorted(self.hours or range(24)):
                    for minute in sorted(self.minutes or range(60)):
                        candidate = day.replace(hour=hour, minute=minute, tzinfo=zone).astimezone(UTC)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        raise ValueError("cron expression never fires in the next five years")

    def _day_matches(self, day: datetime) -> bool:
        aws_weekday = (day.isoweekday() % 7) + 1  # SUN=1 ... SAT=7
        return (
            (self.years is None or day.year in self.years)
            and (self.months is None or day.month in self.months)
            and (self.days is None or day.day in self.days)
            and (self.weekdays is None or aws_weekday in self.weekdays)
        )


@dataclass
class Schedule:
    """One schedule event of a function."""

    name: str
    function: LambdaFunction
    expression: str
    account_id: str
    region: str
    version: int
    constant_input: str | None
    submit: Callable[[LambdaFunction, Any], None]
    enabled: bool = True
    time_zone: str | None = None  # ScheduleV2's ScheduleExpressionTimezone (cron only; rates ignore it)
    next_due: datetime | None = None
    _rate: timedelta | None = field(default=None, repr=False)
    _cron: CronExpression | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._rate = parse_rate(self.expression)
        if self._rate is None:
            self._cron = CronExpression.parse(self.expression)

    def start(self, now: datetime) -> None:
        self.next_due = self._after(now)

    def _after(self, instant: datetime) -> datetime:
        if self._rate is not None:
            return instant + self._rate
        assert self._cron is not None
        return self._cron.next_after(instant, ZoneInfo(self.time_zone) if self.time_zone else UTC)

    def fire_if_due(self, now: datetime) -> bool:
        if not self.enabled or self.next_due is None or self.next_due > now:
            return False
        occurrence = self.next_due
        self.submit(self.function, self._payload(occurrence))
        next_due = self._after(occurrence)
        while next_due <= now:
            next_due = self._after(next_due)
        self.next_due = next_due
        log.info("schedule %s fired for %s", self.name, iso_seconds(occurrence))
        return True

    def _payload(self, occurrence: datetime) -> Any:
        if self.constant_input is not None:
            return json.loads(self.constant_input)
        if self.version == 2:
            return {}
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.account_id,
            "time": iso_seconds(occurrence),
            "region": self.region,
            "resources": [f"arn:aws:events:{self.region}:{self.account_id}:rule/{self.name}"],
            "detail": {},
        }
