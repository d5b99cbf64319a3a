"""Stream of responses in; alerts, follow-up cases and bus events out - each exactly once per response.

For each new or changed response (INSERT, or MODIFY that changes the score or comment) the rules of
``config/alerts.toml`` decide what fires. Every side effect runs under a claim in the table
(``INV#<id>`` / ``ALERT#<rule id>`` for a rule's SNS message and bus event, ``OPENED#CASE`` for the
case, ``EMAIL#v<response version>#<recipient id>`` for the one email naming every rule that fired, or
its line in the owner's digest when their routing entry asks for one: ``npsloop.services.digests``):
a conditional put with a lease, then the side effect, then "sent". A redelivered or concurrent
record finds the claim and does nothing; a crashed attempt's lease runs out and the retry takes over.

Poison records are parked in the alert DLQ and the batch goes on. Any other failure reports the
record in ``batchItemFailures`` and stops: Lambda retries from it, so nothing after it is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from npsloop.changes import Change, ChangeKind, UnreadableRecord, parse_change, records_of
from npsloop.clock import Clock
from npsloop.domain.alerts import (
    AlertRules,
    FiredRule,
    Route,
    RoutingTable,
    case_severity,
    evaluate,
    evaluate_themes,
    is_detractor,
)
from npsloop.domain.cases import Case
from npsloop.domain.digests import DigestItem
from npsloop.domain.responses import Response, masked_comment
from npsloop.notices import Notice, Notifier
from npsloop.observability import count, logger
from npsloop.ports import EventParking
from npsloop.ports.cases import (
    AlertClaims,
    BusEvent,
    CaseRepository,
    CustomerContacts,
    DigestBook,
    EventBus,
    StoreWindows,
)
from npsloop.services.cases import case_opened_event, case_url
from npsloop.services.digests import record as record_in_digest
from npsloop.services.steps import once

CASE_STEP = "OPENED#CASE"


@dataclass
class RecordOutcome:
    result: str  # alerted | no_rule | unchanged | ignored | parked
    invitation_id: str | None = None
    rules: list[str] = field(default_factory=list)


def _alert_step(rule_id: str) -> str:
    return f"ALERT#{rule_id}"


def email_step(response: Response, recipient_id: str) -> str:
    """One alert email per answer (a changed answer is a new version) and recipient."""
    return f"EMAIL#v{response.version}#{recipient_id}"


def detractor_received_event(response: Response, base_url: str | None, opened_case: bool) -> BusEvent:
    return BusEvent(
        "DetractorReceived",
        {
            "event_id": f"npsloop:DetractorReceived:{response.invitation_id}",
            "invitation_id": response.invitation_id,
            "program_id": response.program_id,
            "survey_type": response.survey_type.value,
            "score": response.score,
            "customer_id": response.customer_id,
            "vip": response.vip,
            "context": response.context,
            "responded_at": response.updated_at.isoformat(),
            "case_id": response.invitation_id if opened_case else None,
            "case_url": case_url(base_url, response.invitation_id) if opened_case else None,
        },
    )


class AlertService:
    def __init__(
        self,
        *,
        rules: AlertRules,
        routing: RoutingTable,
        claims: AlertClaims,
        windows: StoreWindows,
        cases: CaseRepository,
        contacts: CustomerContacts,
        notifier: Notifier,
        bus: EventBus,
        parking: EventParking,
        public_base_url: str | None,
        clock: Clock,
        digests: DigestBook,
    ) -> None:
        self._digests = digests
        self._rules = rules
        self._routing = routing
        self._claims = claims
        self._windows = windows
        self._cases = cases
        self._contacts = contacts
        self._notifier = notifier
        self._bus = bus
        self._parking = parking
        self._base_url = public_base_url
        self._clock = clock

    # -- the batch -------------------------------------------------------------------------------
    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        """One Lambda stream batch; returns the partial-batch response."""
        for record in records_of(event):
            try:
                change = parse_change(record)
            except UnreadableRecord as exc:
                self._park(record, f"unreadable record: {exc}")
                continue
            try:
                self.process(change)
            except ValidationError as exc:
                reasons = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'image'}: {e['msg']}" for e in exc.errors()
                )
                self._park(record, f"not a valid response: {reasons}"[:1000], change)
            except Exception as exc:  # a storage, publish or claim failure: retry from this record
                logger.warning(
                    "alert record failed; retrying from it",
                    sequence_number=change.sequence_number,
                    invitation_id=str(change.keys.get("pk", ""))[4:],
                    error=type(exc).__name__,
                )
                count("AlertRecordsFailed", error=type(exc).__name__)
                return {"batchItemFailures": [{"itemIdentifier": change.sequence_number}]}
        return {"batchItemFailures": []}

    def _park(self, record: Any, reason: str, change: Change | None = None) -> None:
        logger.warning("alert record parked", reason=reason, sequence_number=change.sequence_number if change else None)
        self._parking.park(record, reason)
        count("AlertRecordsParked")

    # -- one record ------------------------------------------------------------------------------
    def process(self, change: Change) -> RecordOutcome:
        if change.kind is ChangeKind.REMOVE or change.entity != "response":
            return RecordOutcome("ignored")
        response = Response.model_validate(change.new)
        email = email_step(response, "")
        if change.kind is ChangeKind.MODIFY and not _answer_changed(change.old, response):
            if not _analysis_arrived(change.old, response):
                return RecordOutcome("unchanged", response.invitation_id)
            # The comment's analysis arrived: only the theme rules look at it. The answer's own rules
            # fired on its INSERT (their claims would stop a repeat anyway), and its email is sent.
            fired = evaluate_themes(self._rules, response)
            email = email_step(response, "themes#")
        else:
            if change.kind is ChangeKind.MODIFY:
                self._follow(response)
            fired = evaluate(self._rules, response, cluster_reached=self._cluster_reached(response))
        route = self._routing.route(response.context)
        if not fired:
            return RecordOutcome("no_rule", response.invitation_id)
        severity = case_severity(fired)
        if severity is not None:
            self._once(response.invitation_id, CASE_STEP, lambda: self._open_case(response, fired, severity, route))
        for rule in fired:
            self._once(
                response.invitation_id,
                _alert_step(rule.rule_id),
                lambda rule=rule: self._alert(response, rule, route, opened_case=severity is not None),
            )
        if route.channel.email:
            deliver = self._mail if route.immediate else self._digest
            self._once(
                response.invitation_id,
                email + route.owner.id,
                lambda: deliver(response, fired, route, opened_case=severity is not None),
            )
        return RecordOutcome("alerted", response.invitation_id, [rule.rule_id for rule in fired])

    def _once(self, invitation_id: str, step: str, action: Callable[[], None]) -> None:
        once(self._claims, self._clock, invitation_id, step, action)

    def _cluster_reached(self, response: Response) -> bool:
        rule = self._rules.cluster
        store = response.context.get("store")
        if not rule.enabled or not store or not is_detractor(self._rules, response):
            return False
        window = timedelta(hours=rule.within_hours)
        at = response.created_at
        self._windows.record_detractor(store, response.invitation_id, at, at + window + timedelta(days=1))
        if self._windows.count_detractors(store, at - window, at) < rule.detractors:
            return False
        return self._windows.claim_cluster(store, response.invitation_id, at, at + window)

    def _follow(self, response: Response) -> None:
        """An open case takes the customer's changed answer. Idempotent by the response version; a
        concurrent update of the case (VersionConflict) fails the record, and the retry reads it again."""
        case = self._cases.get(response.invitation_id)
        updated = case.follow_answer(response, self._clock.now()) if case else None
        if case is None or updated is None:
            return
        self._cases.save(updated, expected_version=case.version)
        logger.info("case follows the changed answer", case_id=case.case_id, answer_version=response.version)
        count("CasesFollowedAnswer")

    def _open_case(self, response: Response, fired: list[FiredRule], severity: Any, route: Route) -> None:
        case = Case.open(
            response=response,
            fired=fired,
            severity=severity,
            route=route,
            sla_hours=self._routing.sla_hours,
            calendar=self._routing.calendar_for(route.calendar),
            now=self._clock.now(),
            contact=self._contacts.contact_for(response.invitation_id, self._clock.now()),
        )
        if not self._cases.create(case):
            case = self._cases.get(case.case_id) or case  # a crashed attempt created it: announce that one
        self._bus.put([case_opened_event(case, self._base_url)])
        logger.info("case opened", case_id=case.case_id, owner_id=case.owner.id, severity=case.severity.value)
        count("CasesOpened", severity=case.severity.value)

    def _notice(
        self, response: Response, route: Route, opened_case: bool, *, comment: str | None, **fields: Any
    ) -> Notice:
        return Notice(
            kind="alert",
            recipient=route.owner,
            invitation_id=response.invitation_id,
            program_id=response.program_id,
            survey_type=response.survey_type.value,
            score=response.score,
            customer_id=response.customer_id,
            context=response.context,
            team=route.team,
            comment=comment,
            case_id=response.invitation_id if opened_case else None,
            case_url=case_url(self._base_url, response.invitation_id) if opened_case else None,
            time_zone=route.time_zone,
            language=route.language,
            **fields,
        )

    def _alert(self, response: Response, rule: FiredRule, route: Route, opened_case: bool) -> None:
        """One rule's SNS message (subscribers filter on ``rule``) and, for a detractor, the bus event."""
        if route.channel.sns:
            notice = self._notice(
                response,
                route,
                opened_case,
                comment=masked_comment(response),  # the topic's subscribers are a wider audience
                severity=rule.severity.value,
                rule=rule.rule_id,
                keywords=rule.keywords,
                extra={"vip": response.vip, "responded_at": response.updated_at.isoformat()},
            )
            self._notifier.publish(notice)
        if rule.kind == "detractor":
            self._bus.put([detractor_received_event(response, self._base_url, opened_case)])
        logger.info("alert sent", invitation_id=response.invitation_id, rule=rule.rule_id, channel=route.channel.value)
        count("AlertsSent", rule=rule.rule_id)

    def _mail(self, response: Response, fired: list[FiredRule], route: Route, opened_case: bool) -> None:
        """One email to the owner naming every rule that fired, with the case's due time if it has one."""
        case = self._cases.get(response.invitation_id) if opened_case else None
        severity = max((rule.severity for rule in fired), key=lambda s: s.rank)
        notice = self._notice(
            response,
            route,
            opened_case,
            comment=response.comment,  # to the case owner only: the words as written
            severity=severity.value,
            keywords=tuple(k for rule in fired for k in rule.keywords),
            fired=tuple(fired),
            due_at=case.sla_due_at if case else None,
            contact=case.contact if case else None,  # the email goes to the case's owner only
        )
        self._notifier.mail(notice)
        logger.info("alert mailed", invitation_id=response.invitation_id, rules=len(fired))
        count("AlertEmailsSent")

    def _digest(self, response: Response, fired: list[FiredRule], route: Route, opened_case: bool) -> None:
        """The owner's entry asks for a digest: the answer's line into it instead of an email now."""
        case = self._cases.get(response.invitation_id) if opened_case else None
        record_in_digest(
            self._digests,
            self._clock,
            route,
            DigestItem(
                ref=response.invitation_id,
                alerted_at=self._clock.now(),
                severity=max((rule.severity for rule in fired), key=lambda s: s.rank).value,
                survey_type=response.survey_type.value,
                score=response.score,
                comment=masked_comment(response),  # digests and reports carry the masked text
                keywords=tuple(k for rule in fired for k in rule.keywords),
                rules=tuple(rule.kind for rule in fired),
                store=response.context.get("store"),
                region=response.context.get("region"),
                channel=response.context.get("channel"),
                due_at=case.sla_due_at if case else None,
                case_url=case_url(self._base_url, response.invitation_id) if opened_case else None,
            ),
        )


def _answer_changed(old: dict[str, Any] | None, new: Response) -> bool:
    if not old:
        return True
    return old.get("score") != new.score or (old.get("comment") or None) != new.comment


def _analysis_arrived(old: dict[str, Any] | None, new: Response) -> bool:
    """The change brought the comment's analysis (or a new version of it): theme rules may fire."""
    if new.current_analysis is None:
        return False
    try:
        before = Response.model_validate(old).current_analysis if old else None
    except ValidationError:
        before = None
    return before != new.current_analysis
