"""Digest periods: when a routing entry asks for a daily or weekly digest instead of immediate alerts.

A digest is sent at ``hour`` o'clock in the recipient's time zone (weekly: on ``weekday``, ISO 1 =
Monday). It lists the alerts since the previous send: an alert at instant ``t`` belongs to the period
that ends at the first send time strictly after ``t``. Send times are local wall-clock times, so a
daily period across a daylight-saving change is 23 or 25 hours long, and every period is named by the
local date of its send (``DigestPeriod.key``): the claim of "this recipient's digest of this period"
that keeps a retried run from sending twice.

A send hour that does not exist on the day the clocks go forward (02:00 in Europe/Warsaw on the last
Sunday of March) is the hour after the change, as ``zoneinfo`` reads it (03:00 CEST).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field


class Delivery(StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True)
class DigestPeriod:
    delivery: Delivery
    start: datetime  # UTC, inclusive: the previous send (an alert at that instant missed that run)
    end: datetime  # UTC, exclusive: this period's send
    key: str  # "daily#2026-03-29", "weekly#2026-03-30"

    def holds(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


class DigestSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    delivery: Delivery = Delivery.IMMEDIATE
    hour: Annotated[int, Field(ge=0, le=23)] = 8
    weekday: Annotated[int, Field(ge=1, le=7)] = 1  # weekly only; ISO: 1 = Monday

    @property
    def step_days(self) -> int:
        return 7 if self.delivery is Delivery.WEEKLY else 1

    def _send_on(self, day: date, zone: ZoneInfo) -> datetime:
        local = datetime.combine(day, time(self.hour), tzinfo=zone)
        # A wall-clock time skipped by the change: normalise through UTC (02:00 CET -> 03:00 CEST).
        return local.astimezone(UTC).astimezone(zone)

    def _send_days(self, around: date) -> list[date]:
        if self.delivery is Delivery.DAILY:
            return [around + timedelta(days=d) for d in (-2, -1, 0, 1, 2)]
        monday_based = around - timedelta(days=(around.isoweekday() - self.weekday) % 7)
        return [monday_based + timedelta(days=7 * w) for w in (-2, -1, 0, 1, 2)]

    def _period(self, end_day: date, zone: ZoneInfo) -> DigestPeriod:
        start_day = end_day - timedelta(days=self.step_days)
        # In UTC: Python subtracts two datetimes of the same ZoneInfo as wall-clock times, which would
        # make a period across a daylight-saving change 24 hours long.
        return DigestPeriod(
            self.delivery,
            self._send_on(start_day, zone).astimezone(UTC),
            self._send_on(end_day, zone).astimezone(UTC),
            f"{self.delivery.value}#{end_day.isoformat()}",
        )

    def period_of(self, instant: datetime, time_zone: str) -> DigestPeriod:
        """The period an alert at ``instant`` goes into: it ends at the first send after it."""
        if self.delivery is Delivery.IMMEDIATE:
            raise ValueError("an immediate route has no digest period")
        zone = ZoneInfo(time_zone)
        local_day = instant.astimezone(zone).date()
        end_day = next(d for d in self._send_days(local_day) if self._send_on(d, zone) > instant)
        return self._period(end_day, zone)

    def last_closed(self, now: datetime, time_zone: str) -> DigestPeriod:
        """The period whose send is the latest at or before ``now``: what a run at ``now`` sends."""
        if self.delivery is Delivery.IMMEDIATE:
            raise ValueError("an immediate route has no digest period")
        zone = ZoneInfo(time_zone)
        local_day = now.astimezone(zone).date()
        end_day = [d for d in self._send_days(local_day) if self._send_on(d, zone) <= now][-1]
        return self._period(end_day, zone)


def digest_id(recipient_id: str, period: DigestPeriod) -> str:
    """One recipient's digest of one period: its items and its send claim share this id. Named by the
    send instant (UTC), so two entries of one owner with the same send time make one email."""
    return f"DIGEST#{recipient_id}#{period.end.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


class DigestItem(BaseModel):
    """One alert in a digest: what its line shows. An answer's item is keyed by its invitation (a
    changed answer replaces its line); a trend's by its segment. No customer contact details: the
    case link shows them to whoever may see them."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    ref: Annotated[str, Field(min_length=1, max_length=300)]
    kind: Annotated[str, Field(pattern=r"^(answer|trend)$")] = "answer"
    alerted_at: datetime
    severity: str
    survey_type: str
    score: int
    comment: str | None = None
    keywords: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()  # the kinds that fired: detractor, keyword, vip, cluster, trend
    store: str | None = None
    region: str | None = None
    channel: str | None = None
    due_at: datetime | None = None
    case_url: str | None = None

    @property
    def severity_rank(self) -> int:
        return {"high": 3, "normal": 2, "low": 1}.get(self.severity, 0)


def digest_order(items: list[DigestItem]) -> list[DigestItem]:
    """Most severe first; then the earliest SLA due (a line without one after those with one); then oldest."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(items, key=lambda i: (-i.severity_rank, i.due_at or far, i.alerted_at, i.ref))


IMMEDIATE = DigestSchedule()  # a route that emails each alert at once
