"""Scheduled reports: a planner queues one job per recipient; a worker renders and sends each exactly once.

- ``ReportPlanner.plan`` (the schedule's target): every person of the directory in the report's
  audience gets one ``ReportJob`` for the last complete period in their time zone, with the blocks of
  their own scope; jobs are queued sorted by scope, so one SQS batch mostly holds one scope's
  recipients and its charts are drawn once (``ChartCache``).
- ``ReportWorker.handle`` (one SQS message): claims ``(report, period, recipient)`` with a conditional
  put before sending, the invitations' pattern (docs/decisions.md): a claim outlives every redelivery
  (``CLAIM_LEASE``), so a redelivered job whose send is unknown never sends twice; throttling releases
  the claim and fails the message for SQS to retry; a refusal for good is recorded, not retried.
- The sections' sources: the scores (``ScoresService``), the cases (``RepositoryCaseSource``), the funnel
  (``ServiceFunnelSource`` over ``FunnelService``) and the comments (``AnswerCommentSource`` over
  ``AnswerService``, read as the recipient's scope allows: the job carries their groups).
"""

from __future__ import annotations

import threading
import time as _time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from npsloop.clock import Clock
from npsloop.domain.aggregates import OVERALL, Period
from npsloop.domain.alerts import RoutingTable
from npsloop.domain.brand import Brand
from npsloop.domain.cases import Case, CaseStatus
from npsloop.domain.funnel import Funnel
from npsloop.domain.links import LinkPurpose, sign
from npsloop.domain.programs import ProgramCatalogue
from npsloop.domain.reports import (
    NoAnswers,
    Recipient,
    ReportDefinition,
    ReportJob,
    ReportsConfig,
    ReportUnit,
    Section,
    UnitKind,
    preference_id,
    trend_periods,
    units_of,
)
from npsloop.domain.scope import RolesConfig, Scope, scope_of
from npsloop.domain.validation_errors import describe
from npsloop.domain.view_filters import ViewFilters
from npsloop.observability import count, logger
from npsloop.ports import EventParking, LinkKeyStore, Mailer, MailRejected, MailUnavailable, OutgoingEmail
from npsloop.ports.cases import CaseQuery, CaseRepository
from npsloop.ports.reports import (
    CaseSource,
    ChartCache,
    CommentSource,
    FunnelSource,
    RecipientDirectory,
    ReportClaim,
    ReportClaims,
    ReportPreferences,
    ReportQueue,
)
from npsloop.services.answers import AnswerService
from npsloop.services.funnel import FunnelService
from npsloop.services.scores import ScoreQuery, ScoresService

# The worker queue's visibility timeout x maxReceiveCount (template.yaml ReportJobsQueue): no redelivery
# of a job comes after this, so a claim outlives them all (a unit test keeps them in step).
REDELIVERY_HORIZON = timedelta(seconds=360) * 5
CLAIM_LEASE = REDELIVERY_HORIZON + timedelta(minutes=5)
PREFERENCE_LINK_TTL = timedelta(days=365)


class UnknownReport(LookupError):
    """The schedule names a report reports.toml does not define (or has disabled)."""


class ReportInFlight(Exception):
    """Another delivery of the same job holds the claim: the message fails, SQS delivers it again later."""


class ReportDeferred(Exception):
    """The mail provider did not take the message now: the claim is released and the message retried."""


@dataclass(frozen=True)
class ReportSender:
    address: str
    public_base_url: str


class ReportPlanner:
    def __init__(
        self,
        *,
        reports: ReportsConfig,
        roles: RolesConfig,
        routing: RoutingTable,
        directory: RecipientDirectory,
        queue: ReportQueue,
        clock: Clock,
    ) -> None:
        self._reports = reports
        self._roles = roles
        self._routing = routing
        self._directory = directory
        self._queue = queue
        self._clock = clock

    def plan(self, report_id: str) -> dict[str, Any]:
        definition = self._reports.get(report_id)
        if definition is None or not definition.enabled:
            raise UnknownReport(report_id)
        fired_at = self._clock.now()
        regions = {s.id: s.region for s in self._routing.store}
        jobs = []
        for person in self._directory.recipients():
            scope = scope_of(person.subject, person.groups, self._roles, self._routing)
            if not definition.audience.includes(person.subject, scope.roles):
                continue
            recipient = self._with_defaults(person, scope)
            units = units_of(scope, regions)
            if not units:
                continue
            period = definition.cadence.period(fired_at, recipient.time_zone)
            jobs.append(
                ReportJob(
                    report_id=definition.id,
                    period=period.label,
                    start=period.start,
                    end=period.end,
                    subject=recipient.subject,
                    email=recipient.email,
                    language=recipient.language,
                    time_zone=recipient.time_zone,
                    units=tuple(units),
                    run=fired_at.astimezone(UTC).isoformat(),
                    groups=tuple(sorted(person.groups)),
                )
            )
        jobs.sort(key=lambda j: ([u.key for u in j.units], j.subject))
        self._queue.send(jobs)
        logger.info("report planned", report=definition.id, jobs=len(jobs))
        count("ReportRunsPlanned", report=definition.id)
        return {"report": definition.id, "jobs": len(jobs)}

    def _with_defaults(self, person: Recipient, scope: Scope) -> Recipient:
        """A person without their own language or time zone (the directory's ``locale`` / ``zoneinfo``)
        takes their store's, else their region's, else routing.toml's fallback."""
        if person.language and person.time_zone:
            return person
        context = {"store": min(scope.stores)} if scope.stores else {}
        if scope.regions:
            context = {"region": min(scope.regions)}
        route = self._routing.route(context)
        return replace(
            person, language=person.language or route.language, time_zone=person.time_zone or route.time_zone
        )


@dataclass(frozen=True)
class Block:
    """One unit's numbers for one program: what the email shows, and its charts' cache keys."""

    unit: ReportUnit
    program_id: str
    program_name: str
    survey_type: str
    scores: dict[str, Any]
    trend: list[Any]
    comparison: dict[str, Any] | None
    cases: dict[str, Any] | None
    funnel: dict[str, Any] | None
    comments: list[dict[str, Any]] | None
    dashboard_url: str

    @property
    def has_answers(self) -> bool:
        return bool(self.scores["n"])


class ReportWorker:
    def __init__(
        self,
        *,
        reports: ReportsConfig,
        programs: ProgramCatalogue,
        scores: ScoresService,
        roles: RolesConfig,
        routing: RoutingTable,
        claims: ReportClaims,
        preferences: ReportPreferences,
        mailer: Mailer,
        keys: LinkKeyStore,
        charts: ChartCache,
        sender: ReportSender,
        brand: Brand,
        clock: Clock,
        cases: CaseSource | None = None,
        funnel: FunnelSource | None = None,
        comments: CommentSource | None = None,
        pacer: SendPacer | None = None,
        parking: EventParking | None = None,
        memo: RunMemo | None = None,
    ) -> None:
        self._reports = reports
        self._programs = programs
        self._scores = scores
        self._roles = roles
        self._routing = routing
        self._claims = claims
        self._preferences = preferences
        self._mailer = mailer
        self._keys = keys
        self._charts = charts
        self._sender = sender
        self._brand = brand
        self._clock = clock
        self._cases = cases
        self._funnel = funnel
        self._comments = comments
        self._pacer = pacer
        self._parking = parking
        self._memo = memo or RunMemo()

    def handle_batch(self, event: dict[str, Any]) -> dict[str, Any]:
        """An SQS batch (``ReportBatchItemFailures``): a job that failed is reported and SQS delivers it
        again after its visibility timeout; one that can never succeed is parked with the reason."""
        failures = []
        scores = self._scores.for_invocation()  # the batch's reads, each range once; dropped with the batch
        for record in event.get("Records", []):
            try:
                self.handle_message(record["body"], scores)
            except Exception as exc:  # every failure is retried by SQS, then dead-lettered
                logger.warning("report job failed: retried", error=type(exc).__name__, message_id=record["messageId"])
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    def handle_message(self, body: str, scores: ScoresService | None = None) -> str:
        try:
            job = ReportJob.model_validate_json(body)
        except ValidationError as exc:
            return self._park(body, "invalid report job: " + "; ".join(describe(exc.errors(include_input=False))))
        if self._reports.get(job.report_id) is None:
            return self._park(body, f"unknown report {job.report_id!r} (not in reports.toml)")
        return self.handle(job, scores)

    def _park(self, body: str, reason: str) -> str:
        if self._parking is None:
            raise UnknownReport(reason)
        self._parking.park({"body": body}, reason)
        count("ReportJobsParked")
        logger.warning("report job parked", reason=reason)
        return "parked"

    def handle(self, job: ReportJob, scores: ScoresService | None = None) -> str:
        """Send ``job`` once. ``scores``: the invocation's (``ScoresService.for_invocation``); by default
        one of its own."""
        definition = self._reports.get(job.report_id)
        if definition is None:
            raise UnknownReport(job.report_id)
        now = self._clock.now()
        token = uuid.uuid4().hex
        match self._claims.claim(job.claim_id, token, now, now + CLAIM_LEASE):
            case ReportClaim.DONE:
                return "duplicate"
            case ReportClaim.IN_FLIGHT:
                raise ReportInFlight(job.claim_id)
            case ReportClaim.UNCONFIRMED:
                logger.warning("report send unconfirmed: not resent", report=job.report_id, period=job.period)
                count("ReportsUnconfirmed", report=job.report_id)
                return "unconfirmed"
            case ReportClaim.CLAIMED:
                pass
        try:
            if self._preferences.opted_out(preference_id(job.report_id, job.subject)):
                self._claims.finish(job.claim_id, token, "opted_out", now)
                return "opted_out"
            blocks = self.blocks(definition, job, scores or self._scores.for_invocation())
            if not any(b.has_answers for b in blocks) and definition.no_answers is NoAnswers.SKIP:
                self._claims.finish(job.claim_id, token, "skipped", now)
                count("ReportsSkipped", report=job.report_id)
                return "skipped"
            outgoing = self._compose(definition, job, blocks)
        except Exception:
            self._claims.release(job.claim_id, token)  # nothing went out: a redelivery may take over
            raise
        if self._pacer is not None:
            self._pacer.wait()
        try:
            self._mailer.send(outgoing)
        except MailRejected as exc:
            self._claims.finish(job.claim_id, token, "rejected", now)
            logger.warning("report rejected by the mail provider", report=job.report_id, reason=exc.code)
            count("ReportsRejected", report=job.report_id)
            return "rejected"
        except MailUnavailable as exc:
            self._claims.release(job.claim_id, token)
            count("ReportsDeferred", report=job.report_id, reason=exc.code)
            raise ReportDeferred(exc.code) from exc
        # Any other error leaves the send unknown: the claim stays, and no redelivery sends again.
        self._claims.finish(job.claim_id, token, "sent", self._clock.now())
        logger.info("report sent", report=job.report_id, period=job.period)
        count("ReportsSent", report=job.report_id)
        return "sent"

    # -- the numbers ---------------------------------------------------------------------------------
    def blocks(self, definition: ReportDefinition, job: ReportJob, scores: ScoresService) -> list[Block]:
        from npsloop.reports import sections

        period = job.as_period
        kind = definition.cadence.kind
        trend = trend_periods(period, kind)
        wanted = set(definition.sections)
        scope = scope_of(job.subject, job.groups, self._roles, self._routing)
        out = []
        for unit in job.units:
            dimension, value = _dimension(unit)
            for program_id in definition.programs:
                program = self._programs.get(program_id)
                if program is None:
                    continue
                own = self._scores_of(
                    scores,
                    job.run,
                    program.id,
                    {"from": trend[0].start, "to": period.end, "period": kind, "group_by": dimension, "value": value},
                )
                own_scores = sections.scores(own, value or OVERALL)
                comparison = None
                if Section.COMPARISON in wanted:
                    comparison = self._comparison(scores, job.run, program.id, unit, period, kind, own_scores)
                cases = None
                if Section.CASES in wanted and self._cases is not None:
                    start = datetime.combine(period.start, time(0), ZoneInfo(job.time_zone))
                    end = datetime.combine(period.end + timedelta(days=1), time(0), ZoneInfo(job.time_zone))
                    every = self._memo.get(
                        (job.run, "cases", unit.key, start.isoformat()), partial(self._cases.cases, unit, start)
                    )
                    found = [c for c in every if c.program_id == program.id]
                    cases = sections.cases(found, start, end, self._clock.now())
                funnel = None
                if Section.FUNNEL in wanted and self._funnel is not None:
                    funnel = sections.funnel(
                        self._memo.get(
                            (job.run, "funnel", program.id, unit.key, period.start.isoformat(), period.end.isoformat()),
                            partial(self._funnel.funnel, program.id, unit, period.start, period.end),
                        )
                    )
                comments = None
                if Section.COMMENTS in wanted and self._comments is not None and own_scores["n"]:
                    comments = self._comments.notable(
                        program.id, unit, period.start, period.end, scope=scope, time_zone=job.time_zone
                    )
                view = ViewFilters.model_validate(
                    {"program": program.id, "period": kind, "from": period.start, "to": period.end}
                    | ({unit.kind.value: unit.id} if unit.kind is not UnitKind.NETWORK else {})
                )
                out.append(
                    Block(
                        unit=unit,
                        program_id=program.id,
                        program_name=program.title(job.language),
                        survey_type=program.survey.value,
                        scores=own_scores,
                        trend=sections.trend(own, value or OVERALL) if Section.TREND in wanted else [],
                        comparison=comparison,
                        cases=cases,
                        funnel=funnel,
                        comments=comments,
                        dashboard_url=f"{self._sender.public_base_url}{view.href('/dashboard')}",
                    )
                )
        return out

    def _scores_of(self, scores: ScoresService, run: str, program_id: str, query: dict[str, Any]) -> dict[str, Any]:
        """A ScoresService answer, computed once per run and container (``RunMemo``) from the invocation's
        reads (``scores``: each range of a partition read once)."""
        key = (run, "scores", program_id, *sorted((k, str(v)) for k, v in query.items()))
        return self._memo.get(key, partial(scores.scores, program_id, ScoreQuery.model_validate(query)))

    def _comparison(  # noqa: PLR0917
        self,
        scores: ScoresService,
        run: str,
        program_id: str,
        unit: ReportUnit,
        period: Period,
        kind: Any,
        own: dict[str, Any],
    ) -> dict[str, Any]:
        from npsloop.reports import sections

        def read(dimension: str, value: str | None) -> dict[str, Any]:
            return self._scores_of(
                scores,
                run,
                program_id,
                {"from": period.start, "to": period.end, "period": kind, "group_by": dimension, "value": value},
            )

        parent = None
        children: list[tuple[str, dict[str, Any]]] = []
        if unit.kind is UnitKind.STORE:
            region = next((s.region for s in self._routing.store if s.id == unit.id), None)
            if region:
                parent = {"kind": "region", "id": region, **sections.scores(read("region", region), region)}
        elif unit.kind is UnitKind.REGION:
            parent = {"kind": "network", "id": OVERALL, **sections.scores(read(OVERALL, None), OVERALL)}
            stores = [s.id for s in self._routing.store if s.region == unit.id]
            answer = read("store", None)
            children = [(store, sections.scores(answer, store)) for store in stores]
        else:
            regions = [r.id for r in self._routing.region]
            answer = read("region", None)
            children = [(region, sections.scores(answer, region)) for region in regions]
        return sections.comparison(own, parent, children)

    # -- the email -----------------------------------------------------------------------------------
    def _compose(self, definition: ReportDefinition, job: ReportJob, blocks: list[Block]) -> OutgoingEmail:
        from npsloop.reports.email import render_report

        keys = self._keys.signing_keys()
        link_id = preference_id(job.report_id, job.subject)
        stop_url = (
            f"{self._sender.public_base_url}/reports/stop/"
            f"{sign(keys, LinkPurpose.REPORT_STOP, link_id, self._clock.now() + PREFERENCE_LINK_TTL)}"
            f"?lang={job.language}"
        )
        raw = render_report(
            definition=definition,
            job=job,
            blocks=blocks,
            brand=self._brand,
            sender=self._sender.address,
            stop_url=stop_url,
            charts=self._charts,
        )
        return OutgoingEmail(
            sender=self._sender.address,
            recipient=job.email,
            raw=raw,
            tags={"kind": "report", "report": job.report_id},
        )


def _dimension(unit: ReportUnit) -> tuple[str, str | None]:
    if unit.kind is UnitKind.NETWORK:
        return OVERALL, None
    return unit.kind.value, unit.id


class RunMemo:
    """What one run reads (scores, cases, funnel of a unit), kept per container and keyed by the run's
    instant: the planner queues a scope's recipients together, so a scope's numbers are read once per run
    and container, not once per recipient; a later run (or a replayed schedule) reads afresh."""

    def __init__(self, limit: int = 512) -> None:
        self._items: dict[tuple[str, ...], Any] = {}
        self._limit = limit
        self.reads = 0

    def get(self, key: tuple[str, ...], read: Callable[[], Any]) -> Any:
        if key in self._items:
            return self._items[key]
        value = read()
        self.reads += 1
        if len(self._items) >= self._limit:
            self._items.pop(next(iter(self._items)))
        self._items[key] = value
        return value


class InProcessChartCache(ChartCache):
    """Charts kept for the life of the worker's container: the planner queues a scope's recipients
    together, so a batch draws a scope's charts once and every recipient of it reuses them."""

    def __init__(self, limit: int = 256) -> None:
        self._items: dict[str, bytes] = {}
        self._limit = limit
        self.drawn = 0

    def get(self, key: str) -> bytes | None:
        return self._items.get(key)

    def put(self, key: str, png: bytes) -> None:
        if len(self._items) >= self._limit:
            self._items.pop(next(iter(self._items)))
        self._items[key] = png
        self.drawn += 1


class RepositoryCaseSource(CaseSource):
    """The cases of a store (the case list's by-store index), of a region's stores, or of the network
    (every status's list): those opened since ``since`` or not yet final."""

    PAGE = 200

    def __init__(self, cases: CaseRepository, routing: RoutingTable) -> None:
        self._cases = cases
        self._routing = routing

    def cases(self, unit: ReportUnit, since: datetime) -> list[Case]:
        if unit.kind is UnitKind.STORE:
            queries = [CaseQuery(store=unit.id, limit=self.PAGE)]
        elif unit.kind is UnitKind.REGION:
            stores = [s.id for s in self._routing.store if s.region == unit.id]
            queries = [CaseQuery(store=store, limit=self.PAGE) for store in stores]
        else:
            queries = [CaseQuery(status=status, limit=self.PAGE) for status in CaseStatus]
        found: dict[str, Case] = {}
        for first in queries:
            query = first
            while True:
                page = self._cases.find(query)
                for case in page.cases:
                    if not case.status.final or case.opened_at >= since or (case.closed_at and case.closed_at >= since):
                        found[case.case_id] = case
                if page.next_start is None:
                    break
                query = replace(query, start=page.next_start)
        return list(found.values())


def _segment(unit: ReportUnit) -> tuple[str, str]:
    """The unit as a dashboard segment (``ViewFilters.segment``): the network is ``("all", "all")``."""
    return (OVERALL, OVERALL) if unit.kind is UnitKind.NETWORK else (unit.kind.value, unit.id)


class ServiceFunnelSource(FunnelSource):
    """The funnel of a unit over the period's invitation days: one Query per month of the funnel aggregates."""

    def __init__(self, funnels: FunnelService) -> None:
        self._funnels = funnels

    def funnel(self, program_id: str, unit: ReportUnit, start: date, end: date) -> Funnel:
        return self._funnels.funnel(program_id, _segment(unit), start, end)


class AnswerCommentSource(CommentSource):
    """A few notable comments of a unit and period from the answer index, through ``AnswerService`` as the
    answers page reads them: its plan refuses a unit outside the recipient's scope, and a scope without
    personal data gets none. A store's comments are its partition (GSI2), a region's its stores', the
    network's its month partitions (GSI1). Kept per container, like the charts: the recipients of one
    scope arrive together, so its comments are read once."""

    def __init__(self, answers: AnswerService, limit: int = 256) -> None:
        self._answers = answers
        self._kept: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self._limit = limit
        self.reads = 0  # unit-periods read from the index (the bench and the tests count them)

    def notable(
        self, program_id: str, unit: ReportUnit, start: date, end: date, *, scope: Scope, time_zone: str
    ) -> list[dict[str, Any]] | None:
        from npsloop.reports import sections

        if not scope.may_see_personal_data():
            return None
        segment = {unit.kind.value: unit.id} if unit.kind is not UnitKind.NETWORK else {}
        filters = ViewFilters.model_validate(
            {"program": program_id, "from": start, "to": end, "comment": "1"} | segment
        )
        plan = self._answers.plan(filters, scope, end)  # AnswersRefused: a unit outside the scope
        key = (program_id, unit.key, start.isoformat(), end.isoformat(), time_zone)
        found = self._kept.get(key)
        if found is None:
            found = sections.notable(self._answers.everything(plan), time_zone)
            self.reads += 1
            if len(self._kept) >= self._limit:
                self._kept.pop(next(iter(self._kept)))
            self._kept[key] = found
        return found


class SendPacer:
    """At most ``rate`` sends a second from one worker environment: the worker calls ``wait()`` before
    each send. With the event source's MaximumConcurrency, environments x rate stays under SES's
    maximum send rate (template.yaml ReportSendRate); SES's throttling answer is still retried by the
    mailer and then by SQS."""

    def __init__(
        self,
        rate: float,
        monotonic: Callable[[], float] = _time.monotonic,
        sleep: Callable[[float], None] = _time.sleep,
    ) -> None:
        self._interval = 1.0 / rate
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._monotonic()
            if self._next > now:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self._interval
