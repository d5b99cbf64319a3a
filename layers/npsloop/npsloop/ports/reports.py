"""Ports of the scheduled reports: the directory of recipients, the job queue, claims, preferences, and
the sources of the sections whose data comes from other areas (cases, funnel, comments)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from npsloop.domain.cases import Case
    from npsloop.domain.funnel import Funnel
    from npsloop.domain.reports import Recipient, ReportJob, ReportUnit
    from npsloop.domain.scope import Scope


class RecipientDirectory(ABC):
    @abstractmethod
    def recipients(self) -> list[Recipient]:
        """Everyone who may receive a report: the user pool's users (or the local personas) with their
        groups, address, language and time zone."""


class ReportQueue(ABC):
    @abstractmethod
    def send(self, jobs: Sequence[ReportJob]) -> None:
        """Queue one message per job (in batches); raises if any could not be queued."""


class ReportClaim(StrEnum):
    CLAIMED = "claimed"  # this delivery owns the (report, period, recipient) and must send it
    DONE = "done"  # sent (or decided: skipped, opted out, rejected) before: nothing to do
    IN_FLIGHT = "in_flight"  # another delivery holds the claim within its lease: retry later
    UNCONFIRMED = "unconfirmed"  # a claim's lease ran out without an outcome: it may have gone; never resent


class ReportClaims(ABC):
    @abstractmethod
    def claim(self, claim_id: str, token: str, now: datetime, lease_until: datetime) -> ReportClaim: ...

    @abstractmethod
    def finish(self, claim_id: str, token: str, outcome: str, now: datetime) -> None:
        """Record the outcome (sent, skipped, opted_out, rejected), provided this delivery holds the claim."""

    @abstractmethod
    def release(self, claim_id: str, token: str) -> None:
        """Give the claim up when nothing was sent: a retry may take it."""


class ReportPreferences(ABC):
    @abstractmethod
    def opted_out(self, preference_id: str) -> bool:
        """Whether the person asked to stop this report (``npsloop.domain.reports.preference_id``)."""

    @abstractmethod
    def opt_out(self, preference_id: str, at: datetime) -> None:
        """Stop sending this report to this person (idempotent); honoured from the next run."""


class ChartCache(ABC):
    """A scope's charts, rendered once per run and reused for each recipient of that scope."""

    @abstractmethod
    def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    def put(self, key: str, png: bytes) -> None: ...


class CaseSource(ABC):
    @abstractmethod
    def cases(self, unit: ReportUnit, since: datetime) -> list[Case]:
        """The cases of a unit opened since ``since`` or still open (what the cases section counts)."""


class FunnelSource(Protocol):
    """The survey funnel of a unit over a period's invitation days (the funnel aggregates)."""

    def funnel(self, program_id: str, unit: ReportUnit, start: date, end: date) -> Funnel: ...


class CommentSource(Protocol):
    """A few notable comments of a unit and period (the answer index), masked, read as ``scope`` allows:
    ``None`` when the scope may not see comments (the section is then absent); days in ``time_zone``."""

    def notable(
        self, program_id: str, unit: ReportUnit, start: date, end: date, *, scope: Scope, time_zone: str
    ) -> list[dict[str, Any]] | None: ...
