"""Follow-up cases: one per alerted response, with an owner, an SLA in working time and a strict lifecycle.

    open -> in_progress -> contacted   -> resolved | closed
                        -> unreachable -> in_progress (retry, next working day 09:00) | contacted | closed

Every change returns a new ``Case`` with ``version + 1``; the store writes it only if the stored
version is still the one it was read at (optimistic concurrency). The case id is the invitation
id, so a response can never open two cases.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from npsloop.domain.alerts import DEFAULT_CALENDAR, FiredRule, Person, Route, Severity, SlaHours
from npsloop.domain.contact import CustomerContact
from npsloop.domain.responses import Response
from npsloop.domain.surveys import SurveyType
from npsloop.domain.working_time import WorkingCalendar

MAX_NOTE_LENGTH = 2000
MAX_NOTES = 100  # 100 notes of 2,000 characters keep the item far below DynamoDB's 400 KB
MAX_ANSWER_CHANGES = 20  # the latest ones; with the comments they replaced, still far below 400 KB
SYSTEM = "npsloop"  # the actor of changes the sweep makes


class CaseStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CONTACTED = "contacted"
    UNREACHABLE = "unreachable"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def final(self) -> bool:
        return self in (CaseStatus.RESOLVED, CaseStatus.CLOSED)

    @property
    def sla_running(self) -> bool:
        """The SLA measures time to first contact attempt: it runs while nobody has reached out."""
        return self in (CaseStatus.OPEN, CaseStatus.IN_PROGRESS)


S = CaseStatus
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.OPEN: frozenset({S.IN_PROGRESS}),
    S.IN_PROGRESS: frozenset({S.CONTACTED, S.UNREACHABLE}),
    S.CONTACTED: frozenset({S.RESOLVED, S.CLOSED}),
    S.UNREACHABLE: frozenset({S.IN_PROGRESS, S.CONTACTED, S.CLOSED}),
    S.RESOLVED: frozenset(),
    S.CLOSED: frozenset(),
}


class InvalidCaseUpdate(ValueError):
    """The requested change breaks a case rule; ``reason`` says why, for the person who asked."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def transition_error(current: CaseStatus, wanted: CaseStatus) -> str | None:
    """None when ``current -> wanted`` is allowed, else the reason it is not."""
    if wanted in TRANSITIONS[current]:
        return None
    prefix = f"cannot go from {current.value} to {wanted.value}"
    if current is wanted:
        return f"{prefix}: the case is already {current.value}"
    if current.final:
        return f"{prefix}: a {current.value} case is final"
    if wanted is S.OPEN:
        return f"{prefix}: a case never goes back to open (use in_progress)"
    if current is S.OPEN:
        return f"{prefix}: take the case first (in_progress)"
    if current is S.IN_PROGRESS and wanted.final:
        return f"{prefix}: record the contact attempt first (contacted or unreachable)"
    allowed = " or ".join(sorted(s.value for s in TRANSITIONS[current]))
    return f"{prefix}: from {current.value} a case can go to {allowed}"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Note(_Frozen):
    at: AwareDatetime
    author: str
    text: Annotated[str, Field(min_length=1, max_length=MAX_NOTE_LENGTH)]


class StatusChange(_Frozen):
    at: AwareDatetime
    by: str
    from_status: CaseStatus | None = None  # None: the case was created
    to_status: CaseStatus


class AnswerChange(_Frozen):
    """The customer changed the answer behind the case: what it was before, and the version now."""

    at: AwareDatetime
    version: Annotated[int, Field(ge=2)]
    from_score: int
    to_score: int
    previous_comment: str | None = None
    comment_changed: bool = False


class Case(_Frozen):
    case_id: str
    invitation_id: str
    program_id: str
    survey_type: SurveyType
    score: int
    comment: str | None = None
    customer_id: str
    # For the call back; copied from the invitation's contact item when the case opens, dropped when it
    # is resolved or closed (npsloop.domain.contact). Only its owner, their manager and admins see it.
    contact: CustomerContact | None = None
    store: str | None = None
    region: str | None = None
    channel: str | None = None
    rules: tuple[str, ...]
    severity: Severity
    owner: Person
    manager: Person
    team: str
    time_zone: str
    calendar: str = DEFAULT_CALENDAR  # the routing's holiday calendar for its working hours
    status: CaseStatus
    opened_at: AwareDatetime
    updated_at: AwareDatetime
    sla_due_at: AwareDatetime
    retry_at: AwareDatetime | None = None
    escalated_at: AwareDatetime | None = None
    contact_attempted_at: AwareDatetime | None = None  # the first contacted / unreachable: the SLA is met
    retry_count: Annotated[int, Field(ge=0)] = 0  # times the sweep reopened it after "unreachable"
    closed_at: AwareDatetime | None = None
    root_cause: str | None = None
    notes: tuple[Note, ...] = ()
    history: tuple[StatusChange, ...] = ()
    answer_version: Annotated[int, Field(ge=1)] = 1  # the response version score and comment are from
    answer_changes: tuple[AnswerChange, ...] = ()
    version: Annotated[int, Field(ge=1)]
    # Outbox flag: CaseClosed is not yet confirmed on the bus (the sweep publishes it again).
    closed_event_pending: bool = False

    @field_validator("rules")
    @classmethod
    def _some_rule(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("a case is opened by at least one rule")
        return value

    # -- creation ----------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        *,
        response: Response,
        fired: list[FiredRule],
        severity: Severity,
        route: Route,
        sla_hours: SlaHours,
        calendar: WorkingCalendar,
        now: datetime,
        contact: CustomerContact | None = None,
    ) -> Case:
        return cls(
            case_id=response.invitation_id,
            invitation_id=response.invitation_id,
            program_id=response.program_id,
            survey_type=response.survey_type,
            score=response.score,
            comment=response.comment,
            customer_id=response.customer_id,
            contact=contact,
            store=response.context.get("store"),
            region=response.context.get("region"),
            channel=response.context.get("channel"),
            rules=tuple(rule.rule_id for rule in fired if rule.opens_case),
            severity=severity,
            owner=route.owner,
            manager=route.manager,
            team=route.team,
            time_zone=route.time_zone,
            calendar=route.calendar,
            status=S.OPEN,
            opened_at=now,
            updated_at=now,
            sla_due_at=calendar.add_working_hours(now, sla_hours.of(severity), route.time_zone),
            history=(StatusChange(at=now, by=SYSTEM, from_status=None, to_status=S.OPEN),),
            answer_version=response.version,
            version=1,
        )

    def follow_answer(self, response: Response, now: datetime) -> Case | None:
        """The case with the customer's newer answer (and the change in its history); None when
        there is nothing to follow: an older or the same version, or a resolved or closed case."""
        if self.status.final or response.version <= self.answer_version:
            return None
        change = AnswerChange(
            at=now,
            version=response.version,
            from_score=self.score,
            to_score=response.score,
            previous_comment=self.comment if self.comment != response.comment else None,
            comment_changed=self.comment != response.comment,
        )
        return self.model_copy(
            update={
                "score": response.score,
                "comment": response.comment,
                "answer_version": response.version,
                "answer_changes": (*self.answer_changes, change)[-MAX_ANSWER_CHANGES:],
                "updated_at": now,
                "version": self.version + 1,
            }
        )

    # -- the lifecycle -----------------------------------------------------------------------------
    def change(
        self,
        *,
        actor: str,
        now: datetime,
        calendar: WorkingCalendar,
        root_causes: Collection[str],
        status: CaseStatus | None = None,
        note: str | None = None,
        root_cause: str | None = None,
    ) -> Case:
        """The case after a person's update; raises ``InvalidCaseUpdate`` with the reason."""
        if status is None and note is None and root_cause is None:
            raise InvalidCaseUpdate("empty_update", "nothing to change: give status, note or root_cause")
        if root_cause is not None and root_cause not in root_causes:
            raise InvalidCaseUpdate(
                "unknown_root_cause", f"unknown root cause {root_cause!r}; known: {', '.join(sorted(root_causes))}"
            )
        if self.status.final and (root_cause is not None or note is None or status is not None):
            if status is not None:
                raise InvalidCaseUpdate("invalid_transition", transition_error(self.status, status) or "")
            raise InvalidCaseUpdate("case_final", f"a {self.status.value} case only takes notes")
        updated = self
        if note is not None:
            text = note.strip()
            if not text:
                raise InvalidCaseUpdate("empty_note", "a note needs some text")
            if len(text) > MAX_NOTE_LENGTH:
                raise InvalidCaseUpdate("note_too_long", f"a note has at most {MAX_NOTE_LENGTH} characters")
            if len(self.notes) >= MAX_NOTES:
                raise InvalidCaseUpdate("too_many_notes", f"a case holds at most {MAX_NOTES} notes")
            updated = updated.model_copy(update={"notes": (*updated.notes, Note(at=now, author=actor, text=text))})
        if root_cause is not None:
            updated = updated.model_copy(update={"root_cause": root_cause})
        if status is not None and status is not self.status:
            updated = updated._move(status, actor, now, calendar)
        elif status is not None:
            raise InvalidCaseUpdate("invalid_transition", transition_error(self.status, status) or "")
        return updated.model_copy(update={"updated_at": now, "version": self.version + 1})

    def _move(self, wanted: CaseStatus, actor: str, now: datetime, calendar: WorkingCalendar) -> Case:
        reason = transition_error(self.status, wanted)
        if reason is not None:
            raise InvalidCaseUpdate("invalid_transition", reason)
        if wanted is S.RESOLVED and self.root_cause is None:
            raise InvalidCaseUpdate(
                "root_cause_required", f"cannot go from {self.status.value} to resolved: give a root_cause"
            )
        changes: dict[str, object] = {
            "status": wanted,
            "history": (*self.history, StatusChange(at=now, by=actor, from_status=self.status, to_status=wanted)),
            "retry_at": calendar.next_working_day_start(now, self.time_zone) if wanted is S.UNREACHABLE else None,
        }
        if wanted in (S.CONTACTED, S.UNREACHABLE) and self.contact_attempted_at is None:
            changes["contact_attempted_at"] = now
        if wanted.final:
            changes.update(closed_at=now, closed_event_pending=True, contact=None)  # no call back any more
        return self.model_copy(update=changes)

    # -- what the sweep does -----------------------------------------------------------------------
    @property
    def sla_clock_running(self) -> bool:
        """Nobody has tried to reach the customer yet and the case has not been escalated."""
        return self.status.sla_running and self.contact_attempted_at is None and self.escalated_at is None

    def overdue(self, now: datetime) -> bool:
        return self.sla_clock_running and self.sla_due_at <= now

    def retry_due(self, now: datetime) -> bool:
        return self.status is S.UNREACHABLE and self.retry_at is not None and self.retry_at <= now

    def escalate(self, now: datetime) -> Case:
        return self.model_copy(update={"escalated_at": now, "updated_at": now, "version": self.version + 1})

    def reopen_for_retry(self, now: datetime) -> Case:
        change = StatusChange(at=now, by=SYSTEM, from_status=self.status, to_status=S.IN_PROGRESS)
        return self.model_copy(
            update={
                "status": S.IN_PROGRESS,
                "retry_at": None,
                "retry_count": self.retry_count + 1,
                "history": (*self.history, change),
                "updated_at": now,
                "version": self.version + 1,
            }
        )

    def due_at(self) -> datetime | None:
        """When the sweep has something to do for this case (None: nothing, ever, unless it changes)."""
        if self.closed_event_pending:
            return self.closed_at or self.updated_at
        if self.sla_clock_running:
            return self.sla_due_at
        if self.status is S.UNREACHABLE:
            return self.retry_at
        return None
