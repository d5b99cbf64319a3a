"""Follow-up cases: reading and updating them (the case API) and the 15-minute sweep.

The sweep escalates overdue cases to the owner's manager (once: ``escalated_at`` takes the case off
the work queue), reopens unreachable cases whose retry day has come, and publishes ``CaseClosed``
events the API could not confirm. It finds them with one read of the sparse work-due index (a case
is in it only while the sweep has something to do for it: ``Case.due_at``), oldest first.

Each notice is claimed first (``npsloop.services.steps.once``: a conditional write of
``INV#<id>`` / ``NOTICE#ESCALATION`` or ``NOTICE#RETRY#<n>``), then sent, then the case is saved. A
replayed tick, or a save that failed after the notice went out, finds the claim done and saves the
case without a second notice; a notice that failed leaves its claim to expire and the next tick sends it.

One case that fails does not stop the sweep: it is logged (ids only), counted, and stays due; when
any failed, the invocation ends with ``SweepIncomplete`` so the function's failure destination (the
alert DLQ) and its alarm see it. The next tick (15 minutes) is the retry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from npsloop.clock import Clock
from npsloop.domain.alerts import AlertRules, RoutingTable
from npsloop.domain.cases import Case, CaseStatus
from npsloop.domain.scope import Scope
from npsloop.notices import Notice, NoticeKind, Notifier
from npsloop.observability import count, logger
from npsloop.ports.cases import (
    AlertClaims,
    BusEvent,
    CasePage,
    CaseQuery,
    CaseRepository,
    EventBus,
    PublishFailed,
    VersionConflict,
    WorkQueue,
)
from npsloop.services.steps import StepInFlight, once

SWEEP_LIMIT = 500  # due cases per tick, oldest first (about 5 calls each); the rest waits 15 minutes
ESCALATION_NOTICE = "NOTICE#ESCALATION"


def retry_notice_step(case: Case) -> str:
    """One retry notice per reopening: the n-th reopening of a case has its own claim."""
    return f"NOTICE#RETRY#{case.retry_count + 1}"


def work_due(case: Case, now: datetime) -> WorkQueue | None:
    """What the sweep has to do for ``case`` at ``now``, if anything."""
    if case.closed_event_pending:
        return WorkQueue.CLOSED_EVENT
    if case.overdue(now):
        return WorkQueue.SLA
    if case.retry_due(now):
        return WorkQueue.RETRY
    return None


class SweepIncomplete(RuntimeError):
    """Some cases failed this tick (logged and counted); they stay due and the next tick retries them."""


class CaseNotFound(LookupError):
    pass


class CaseForbidden(PermissionError):
    pass


def case_url(base_url: str | None, case_id: str) -> str | None:
    """The case's page (``GET /cases/{id}``, the web function): a person opens it after signing in."""
    return f"{base_url}/cases/{case_id}" if base_url else None


def case_opened_event(case: Case, base_url: str | None) -> BusEvent:
    return BusEvent(
        "CaseOpened",
        {
            "event_id": f"npsloop:CaseOpened:{case.case_id}",
            "case_id": case.case_id,
            "invitation_id": case.invitation_id,
            "program_id": case.program_id,
            "customer_id": case.customer_id,
            "store": case.store,
            "region": case.region,
            "severity": case.severity.value,
            "rules": list(case.rules),
            "score": case.score,
            "owner_id": case.owner.id,
            "team": case.team,
            "opened_at": case.opened_at.isoformat(),
            "sla_due_at": case.sla_due_at.isoformat(),
            "case_url": case_url(base_url, case.case_id),
        },
    )


def case_closed_event(case: Case, base_url: str | None) -> BusEvent:
    closing = next((h for h in reversed(case.history) if h.to_status == case.status), None)
    return BusEvent(
        "CaseClosed",
        {
            "event_id": f"npsloop:CaseClosed:{case.case_id}",
            "case_id": case.case_id,
            "invitation_id": case.invitation_id,
            "program_id": case.program_id,
            "customer_id": case.customer_id,
            "store": case.store,
            "region": case.region,
            "status": case.status.value,
            "root_cause": case.root_cause,
            "opened_at": case.opened_at.isoformat(),
            "closed_at": (case.closed_at or case.updated_at).isoformat(),
            "closed_by": closing.by if closing else None,
            "escalated": case.escalated_at is not None,
            "case_url": case_url(base_url, case.case_id),
        },
    )


@dataclass(frozen=True)
class CaseUpdate:
    status: CaseStatus | None = None
    note: str | None = None
    root_cause: str | None = None
    expected_version: int | None = None


class CaseService:
    def __init__(
        self,
        *,
        rules: AlertRules,
        routing: RoutingTable,
        cases: CaseRepository,
        bus: EventBus,
        notifier: Notifier | None,
        public_base_url: str | None,
        clock: Clock,
        claims: AlertClaims | None = None,
    ) -> None:
        if notifier is not None and claims is None:
            raise ValueError("a case service that sends notices needs the claims that send each once")
        self._claims = claims
        self._rules = rules
        self._routing = routing
        self._cases = cases
        self._bus = bus
        self._notifier = notifier
        self._base_url = public_base_url
        self._clock = clock

    # -- the API ---------------------------------------------------------------------------------
    def get(self, case_id: str, scope: Scope) -> Case:
        case = self._cases.get(case_id)
        if case is None:
            raise CaseNotFound(case_id)
        if not scope.may_read_case(case):
            raise CaseForbidden(
                f"this case is outside your scope ({scope.describe()}; and you neither own nor manage it)"
            )
        return case

    def find(self, query: CaseQuery, scope: Scope) -> CasePage:
        if not (query.owner or query.store or query.status):
            raise ValueError("give owner, store or status")
        if not scope.reads_cases:
            raise CaseForbidden("your roles read no cases")
        if query.store is not None and not scope.may_list_store_cases(query.store):
            raise CaseForbidden(f"store {query.store!r} is outside your scope ({scope.describe()})")
        return self._cases.find(CaseQuery(**{**query.__dict__, "visible": scope.case_visibility()}))

    def update(self, case_id: str, scope: Scope, update: CaseUpdate, *, request_base_url: str | None = None) -> Case:
        """Apply a person's change. ``request_base_url`` (the API's URL as the request reached it)
        builds the CaseClosed event's case link when no public base URL is configured."""
        case = self.get(case_id, scope)
        if not scope.may_change_case(case):
            raise CaseForbidden(f"you may read this case but not change it ({scope.describe()})")
        if update.expected_version is not None and update.expected_version != case.version:
            raise VersionConflict(case_id, case.version)
        changed = case.change(
            actor=scope.subject,
            now=self._clock.now(),
            calendar=self._routing.calendar_for(case.calendar),
            root_causes=self._rules.cases.root_causes,
            status=update.status,
            note=update.note,
            root_cause=update.root_cause,
        )
        self._cases.save(changed, expected_version=case.version)
        logger.info("case updated", case_id=case_id, status=changed.status.value, version=changed.version)
        count("CasesUpdated", status=changed.status.value)
        if changed.closed_event_pending:
            changed = self._publish_closed(changed, self._base_url or request_base_url)
        return changed

    def _publish_closed(self, case: Case, base_url: str | None) -> Case:
        try:
            self._bus.put([case_closed_event(case, base_url)])
        except PublishFailed as exc:
            logger.warning("CaseClosed not published; the sweep retries", case_id=case.case_id, error=str(exc))
            return case
        self._cases.closed_event_sent(case)
        count("CasesClosed", status=case.status.value)
        return case.model_copy(update={"closed_event_pending": False})

    # -- the sweep -------------------------------------------------------------------------------
    def sweep(self) -> dict[str, int]:
        """One read of the work-due index, then each due case, oldest first, read again and worked."""
        now = self._clock.now()
        done = {"escalated": 0, "reopened": 0, "closed_events": 0, "conflicts": 0, "failed": 0}
        steps: dict[WorkQueue, Callable[[Case], str]] = {
            WorkQueue.SLA: lambda case: self._escalate(case, now),
            WorkQueue.RETRY: lambda case: self._reopen(case, now),
            WorkQueue.CLOSED_EVENT: self._resend_closed,
        }
        for case_id in self._cases.due(now, SWEEP_LIMIT):
            queue: WorkQueue | None = None
            try:
                case = self._cases.get(case_id)  # the index lags the table: decide on the case itself
                queue = work_due(case, now) if case is not None else None
                outcome = steps[queue](case) if case is not None and queue is not None else None
            except StepInFlight:
                outcome = "conflicts"  # another sweep is sending this notice: the next tick decides
            except Exception as exc:  # one case must not stop the others
                kind = queue.value if queue else "read"
                logger.warning("case sweep failed for a case", case_id=case_id, queue=kind, error=type(exc).__name__)
                count("CaseSweepFailures", queue=kind, error=type(exc).__name__)
                outcome = "failed"
            if outcome is not None:
                done[outcome] += 1
        logger.info("case sweep", **done)
        if done["failed"]:
            raise SweepIncomplete(f"{done['failed']} case(s) failed this tick; they stay due: {done}")
        return done

    def _escalate(self, case: Case, now: datetime) -> str:
        self._notify_once(case, ESCALATION_NOTICE, "escalation", case.manager)
        return "escalated" if self._save(case.escalate(now), case) else "conflicts"

    def _reopen(self, case: Case, now: datetime) -> str:
        reopened = case.reopen_for_retry(now)
        self._notify_once(reopened, retry_notice_step(case), "retry", case.owner)
        return "reopened" if self._save(reopened, case) else "conflicts"

    def _resend_closed(self, case: Case) -> str:
        self._bus.put([case_closed_event(case, self._base_url)])  # consumers dedupe on event_id
        self._cases.closed_event_sent(case)
        return "closed_events"

    def _notify_once(self, case: Case, step: str, kind: NoticeKind, recipient: Any) -> None:
        if self._notifier is None or self._claims is None:
            return
        once(self._claims, self._clock, case.invitation_id, step, lambda: self._notify(case, kind, recipient))

    def _save(self, changed: Case, read: Case) -> bool:
        try:
            self._cases.save(changed, expected_version=read.version)
        except VersionConflict:
            logger.info("case changed during the sweep; next tick decides", case_id=read.case_id)
            return False
        count("CasesEscalated" if changed.escalated_at and not read.escalated_at else "CasesReopened")
        return True

    def _notify(self, case: Case, kind: NoticeKind, recipient: Any) -> None:
        if self._notifier is None:
            return
        route = self._routing.route({k: v for k, v in (("store", case.store), ("region", case.region)) if v})
        notice = Notice(
            kind=kind,
            recipient=recipient,
            severity=case.severity.value,
            invitation_id=case.invitation_id,
            program_id=case.program_id,
            survey_type=case.survey_type.value,
            score=case.score,
            customer_id=case.customer_id,
            context={k: v for k, v in (("store", case.store), ("region", case.region), ("channel", case.channel)) if v},
            team=case.team,
            comment=case.comment,
            case_id=case.case_id,
            case_url=case_url(self._base_url, case.case_id),
            due_at=case.sla_due_at if kind == "escalation" else None,
            time_zone=case.time_zone,
            language=route.language,
        )
        self._notifier.send(notice, route.channel)
