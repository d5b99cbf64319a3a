"""Ports of the alert and case area: alert claims, the store windows, cases, the topic and the bus."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from npsloop.domain.cases import Case, CaseStatus
    from npsloop.domain.contact import CustomerContact
    from npsloop.domain.digests import DigestItem
    from npsloop.domain.scope import CaseVisibility


class StepClaim(StrEnum):
    CLAIMED = "claimed"  # this delivery must do the step, then complete it
    DONE = "done"  # a delivery did it before: nothing to do
    IN_FLIGHT = "in_flight"  # another delivery holds an unexpired lease: retry later


class PublishFailed(Exception):
    """The topic, the bus or the mail provider did not take a message; a retry may succeed."""


class VersionConflict(Exception):
    """The case changed since it was read (its stored version is not the expected one)."""

    def __init__(self, case_id: str, current: int | None) -> None:
        super().__init__(f"case {case_id} is at version {current}")
        self.case_id = case_id
        self.current = current


class AlertClaims(ABC):
    """One item per response and step (``INV#<id>`` / ``ALERT#<rule id>``): each side effect happens once."""

    @abstractmethod
    def claim(self, invitation_id: str, step: str, token: str, now: datetime, lease_until: datetime) -> StepClaim:
        """Create the pending claim, or take over one whose lease ran out."""

    @abstractmethod
    def complete(self, invitation_id: str, step: str, token: str, now: datetime) -> None:
        """Mark the step done, provided this delivery still holds the claim."""

    def last_done(self, invitation_id: str, step_prefix: str) -> datetime | None:
        """When the newest done step starting with ``step_prefix`` was claimed (e.g. a segment's last trend
        alert, ``ALERT#segment-trend#``); None if there is none. Adapters that can read it override this."""
        return None


class CustomerContacts(ABC):
    """The contact details kept with an invitation while its link is valid (``npsloop.domain.contact``)."""

    @abstractmethod
    def contact_for(self, invitation_id: str, now: datetime) -> CustomerContact | None:
        """The invitation's contact details, None when none were given or they expired."""

    @abstractmethod
    def erase_contacts(self, customer_id: str) -> int:
        """An erasure request: delete the customer's kept contact details and remove them from their
        cases; returns how many items changed. Idempotent."""


@dataclass(frozen=True)
class DigestRead:
    items: list[DigestItem]
    sent: bool  # its send claim is done: a later run sends nothing


class DigestBook(ABC):
    """The alerts waiting for a recipient's digest (``npsloop.domain.digests.digest_id``), one item per
    alert and digest, beside the digest's send claim (``AlertClaims``, step ``DIGEST#SENT``)."""

    @abstractmethod
    def add_to_digest(self, digest: str, item: DigestItem, expires: datetime) -> None:
        """Write the item (a repeat overwrites it: idempotent); TTL at ``expires``."""

    @abstractmethod
    def read_digest(self, digest: str) -> DigestRead:
        """The digest's items and whether it was sent (strongly consistent)."""


class StoreWindows(ABC):
    """Recent detractors per store, for the cluster rule."""

    @abstractmethod
    def record_detractor(self, store: str, invitation_id: str, at: datetime, expires: datetime) -> None:
        """Idempotent: the same response recorded twice counts once."""

    @abstractmethod
    def count_detractors(self, store: str, since: datetime, until: datetime) -> int: ...

    @abstractmethod
    def claim_cluster(self, store: str, invitation_id: str, now: datetime, quiet_until: datetime) -> bool:
        """True when no other response fired the store's cluster rule before ``now`` within its window
        (or this very response did: a replay)."""


@dataclass(frozen=True)
class CaseQuery:
    owner: str | None = None
    store: str | None = None
    status: CaseStatus | None = None
    visible: CaseVisibility | None = None  # the caller's reach (None: every case); npsloop.domain.scope
    limit: int = 25
    start: dict[str, Any] | None = None


@dataclass(frozen=True)
class CasePage:
    cases: list[Case]
    next_start: dict[str, Any] | None = None


class WorkQueue(StrEnum):
    """The kinds of work the sweep does (``Case.work_due``); one "work due" index holds them all."""

    SLA = "sla"  # open / in_progress, SLA clock running, not yet escalated
    RETRY = "retry"  # unreachable, retry due
    CLOSED_EVENT = "closed_event"  # resolved / closed, CaseClosed not yet confirmed on the bus


class CaseRepository(ABC):
    @abstractmethod
    def create(self, case: Case) -> bool:
        """Store a new case; False when the response's case exists already."""

    @abstractmethod
    def get(self, case_id: str) -> Case | None: ...

    @abstractmethod
    def save(self, case: Case, expected_version: int) -> None:
        """Replace the case if its stored version is ``expected_version``; raises ``VersionConflict``."""

    @abstractmethod
    def closed_event_sent(self, case: Case) -> None:
        """Clear the outbox flag of a final case (no version change: it is not a change of the case)."""

    @abstractmethod
    def due(self, now: datetime, limit: int) -> list[str]:
        """Ids of cases with work of any kind due at or before ``now`` (``Case.due_at``), oldest first."""

    @abstractmethod
    def find(self, query: CaseQuery) -> CasePage: ...


@dataclass(frozen=True)
class TopicMessage:
    subject: str
    body: dict[str, Any]
    attributes: dict[str, str] = field(default_factory=dict)


class AlertTopic(ABC):
    @abstractmethod
    def publish(self, message: TopicMessage) -> str:
        """Publish; returns the message id. Raises ``PublishFailed``."""


@dataclass(frozen=True)
class BusEvent:
    detail_type: str
    detail: dict[str, Any]  # carries a deterministic ``event_id``


class EventBus(ABC):
    @abstractmethod
    def put(self, events: list[BusEvent]) -> None:
        """Put every event or raise ``PublishFailed`` (a retry puts them again: consumers dedupe)."""
