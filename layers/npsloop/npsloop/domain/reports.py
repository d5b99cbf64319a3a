"""Scheduled reports: who gets which summary, when, of which period, and what one report job is.

Definitions live in ``config/reports.toml``, validated on load like the programs and roles: a bad
field fails with a message naming it (``reports.toml: report[0].cadence.weekday: ...``), and a role
or program the other files do not know is refused (``check_against``).

- **Audience**: roles of roles.toml (``store-manager``, ``regional-manager``, ``cx-lead``...) and/or
  named people (their ``sub``). A recipient's numbers are those of their scope
  (``npsloop.domain.scope.scope_of``): a store manager's store, a regional manager's region, the network
  for a role that reaches every store. Each of these is a ``ReportUnit``.
- **Cadence**: weekly (ISO weekday) or monthly (day of month), at a local time in a time zone: the
  EventBridge Scheduler schedule fires then (``schedule_expression``, ``ScheduleExpressionTimezone``).
  The period reported is the last complete week or month *in the recipient's own time zone*
  (``Cadence.period``), so a run at Monday 07:00 Warsaw reports Monday-Sunday of the week before.
- **Sections**: ``scores``, ``trend``, ``comparison``, ``cases``, ``funnel`` (sent, delivered, answered,
  response rate, bounces) and ``comments`` (a few notable ones, masked, only for a role that may see
  personal data; for another role the section is absent).

Pure: no I/O beyond reading the file in ``load_reports``.
"""

from __future__ import annotations

import base64
import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from npsloop.domain.aggregates import Period, PeriodKind, period_of, previous_period
from npsloop.domain.alerts import CONFIG_DIR
from npsloop.domain.scope import Scope
from npsloop.domain.types import EmailAddress, Locale, TimeZoneName
from npsloop.domain.validation_errors import describe

DEFAULT_REPORTS_FILE = CONFIG_DIR / "reports.toml"
TREND_PERIODS = 12  # the trend chart: this period and the 11 before it
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")

ReportId = Annotated[str, StringConstraints(min_length=1, max_length=48, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Subject = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")]
GroupName = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class ReportsConfigError(ValueError):
    """reports.toml is invalid; the message names each offending field."""


class Section(StrEnum):
    SCORES = "scores"  # NPS/CSAT/CES with interval, answers, change against the previous period
    TREND = "trend"  # the last 12 periods, as a chart (and a table for images off)
    COMPARISON = "comparison"  # the scope against its parent; a region's stores with intervals
    CASES = "cases"  # opened, resolved, overdue, median time to first contact, top root causes
    FUNNEL = "funnel"  # sent, delivered, answered, response rate, bounces (the funnel aggregates)
    COMMENTS = "comments"  # notable comments, masked, only for a role with personal data (the answer index)


class Every(StrEnum):
    WEEK = "week"
    MONTH = "month"


class NoAnswers(StrEnum):
    SHORT = "short"  # a short "no answers this period" email
    SKIP = "skip"  # no email at all


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cadence(_Config):
    every: Every
    weekday: Annotated[int, Field(ge=1, le=7)] | None = None  # ISO: 1 = Monday (weekly)
    day: Annotated[int, Field(ge=1, le=28)] | None = None  # of the month (monthly); 28 at most: every month has it
    at: time = time(7, 0)
    time_zone: TimeZoneName = "Europe/Warsaw"

    @model_validator(mode="after")
    def _day_fits(self) -> Cadence:
        if self.every is Every.WEEK and (self.weekday is None or self.day is not None):
            raise ValueError("a weekly cadence names its weekday (1 = Monday ... 7 = Sunday), not a day")
        if self.every is Every.MONTH and (self.day is None or self.weekday is not None):
            raise ValueError("a monthly cadence names its day of the month (1-28), not a weekday")
        if self.at.second or self.at.microsecond or self.at.tzinfo is not None:
            raise ValueError("at: a local time in whole minutes (e.g. 07:00:00), without a zone")
        return self

    @property
    def kind(self) -> PeriodKind:
        return PeriodKind.WEEK if self.every is Every.WEEK else PeriodKind.MONTH

    def schedule_expression(self) -> str:
        """The EventBridge Scheduler cron, read in ``time_zone`` (ScheduleExpressionTimezone)."""
        if self.every is Every.WEEK:
            assert self.weekday is not None
            return f"cron({self.at.minute} {self.at.hour} ? * {_WEEKDAYS[self.weekday - 1]} *)"
        return f"cron({self.at.minute} {self.at.hour} {self.day} * ? *)"

    def period(self, fired_at: datetime, time_zone: str) -> Period:
        """The last complete period before ``fired_at``, in the recipient's ``time_zone``."""
        local_day = fired_at.astimezone(ZoneInfo(time_zone)).date()
        return previous_period(period_of(local_day, self.kind), self.kind)


def trend_periods(period: Period, kind: PeriodKind, count: int = TREND_PERIODS) -> list[Period]:
    """``period`` and the ``count - 1`` before it, oldest first."""
    periods = [period]
    while len(periods) < count:
        periods.insert(0, previous_period(periods[0], kind))
    return periods


class Audience(_Config):
    roles: tuple[Annotated[str, StringConstraints(min_length=1, max_length=64)], ...] = ()
    people: tuple[Subject, ...] = ()

    @model_validator(mode="after")
    def _someone(self) -> Audience:
        if not self.roles and not self.people:
            raise ValueError("an audience names roles of roles.toml, people (their sub), or both")
        return self

    def includes(self, subject: str, roles: Iterable[str]) -> bool:
        return subject in self.people or bool(set(self.roles) & set(roles))


class ReportDefinition(_Config):
    id: ReportId
    audience: Audience
    cadence: Cadence
    programs: Annotated[tuple[Annotated[str, StringConstraints(min_length=1, max_length=64)], ...], Field(min_length=1)]
    sections: Annotated[tuple[Section, ...], Field(min_length=1)]
    no_answers: NoAnswers = NoAnswers.SHORT
    enabled: bool = True

    @model_validator(mode="after")
    def _distinct_sections(self) -> ReportDefinition:
        if len(set(self.sections)) != len(self.sections):
            raise ValueError("sections: each section once")
        if len(set(self.programs)) != len(self.programs):
            raise ValueError("programs: each program once")
        return self


class ReportsConfig(_Config):
    schema_version: Literal[1]
    report: tuple[ReportDefinition, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> ReportsConfig:
        ids = [r.id for r in self.report]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate report ids {duplicates}")
        return self

    def get(self, report_id: str) -> ReportDefinition | None:
        return next((r for r in self.report if r.id == report_id), None)

    def check_against(self, program_ids: Iterable[str], role_names: Iterable[str], origin: str = "reports") -> None:
        """Refuse a program or role that programs.toml or roles.toml does not define."""
        programs, roles = set(program_ids), set(role_names)
        problems = []
        for i, report in enumerate(self.report):
            for j, program in enumerate(report.programs):
                if program not in programs:
                    problems.append(
                        f"report[{i}].programs[{j}]: unknown program {program!r} (one of {sorted(programs)})"
                    )
            for j, role in enumerate(report.audience.roles):
                if role not in roles:
                    problems.append(f"report[{i}].audience.roles[{j}]: unknown role {role!r} (one of {sorted(roles)})")
        if problems:
            raise ReportsConfigError(f"{origin}: " + "; ".join(problems))


def parse_reports(raw: dict[str, Any], origin: str = "reports") -> ReportsConfig:
    try:
        return ReportsConfig.model_validate(raw)
    except ValidationError as exc:
        raise ReportsConfigError(f"{origin}: " + "; ".join(describe(exc.errors()))) from exc


def load_reports(path: Path = DEFAULT_REPORTS_FILE) -> ReportsConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ReportsConfigError(f"{path.name}: not valid TOML: {exc}") from exc
    return parse_reports(raw, origin=path.name)


# -- recipients, units and jobs -------------------------------------------------------------------


class UnitKind(StrEnum):
    NETWORK = "network"
    REGION = "region"
    STORE = "store"


class ReportUnit(_Config):
    """The numbers one report block shows: the network, one region or one store."""

    kind: UnitKind
    id: str = "all"

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.id}"


def units_of(scope: Scope, store_regions: dict[str, str | None]) -> list[ReportUnit]:
    """The blocks of a recipient's report: the network for a role reaching every store; else each region,
    and each store not already inside one of those regions (a store manager: their store)."""
    if scope.all_stores:
        return [ReportUnit(kind=UnitKind.NETWORK)]
    units = [ReportUnit(kind=UnitKind.REGION, id=r) for r in sorted(scope.regions)]
    units += [
        ReportUnit(kind=UnitKind.STORE, id=s) for s in sorted(scope.stores) if store_regions.get(s) not in scope.regions
    ]
    return units


@dataclass(frozen=True)
class Recipient:
    """A person of the directory: the user pool's user (or a local persona) and their groups."""

    subject: str
    email: str
    language: str
    time_zone: str
    groups: tuple[str, ...]


class ReportJob(BaseModel):
    """One SQS message: one report, one period, one recipient (what the worker renders and sends)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    report_id: ReportId
    period: str  # label: 2026-W47, 2026-11
    start: date
    end: date
    subject: Subject
    email: EmailAddress
    language: Locale
    time_zone: TimeZoneName
    units: tuple[ReportUnit, ...]
    run: str  # the run's instant (ISO): logs and the claim's audit
    # The recipient's groups: the worker rebuilds their scope with ``scope_of`` and reads comments only
    # as that scope allows (a job queued without them shows no comments).
    groups: Annotated[tuple[GroupName, ...], Field(max_length=100)] = ()

    @property
    def claim_id(self) -> str:
        """Exactly one email per (report, period, recipient): the claim item's id."""
        return claim_id(self.report_id, self.period, self.subject)

    @property
    def as_period(self) -> Period:
        return Period(self.period, self.start, self.end)


def claim_id(report_id: str, period: str, subject: str) -> str:
    # The subject hashed: the id is a key in the table and in logs, never a person's id in clear.
    digest = hashlib.sha256(subject.encode()).hexdigest()[:24]
    return f"{report_id}#{period}#{digest}"


def preference_id(report_id: str, subject: str) -> str:
    """The key of a person's "stop this report" preference, and the id its signed one-click link carries:
    a hash in the link alphabet (base32), so neither the link nor the item names the person."""
    digest = hashlib.sha256(f"{report_id}|{subject}".encode()).digest()[:20]
    return base64.b32encode(digest).decode().lower()
