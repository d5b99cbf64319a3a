"""Scheduled reports: a planner queues one job per recipient; a worker renders and sends each exactly once.

- ``ReportPlanner.plan`` (the schedule's target): every person of the directory in the report's
  audience gets one ``ReportJob`` for the last complete period in their time zone, with the blocks of
  their own scope; jobs are queued sorted by scope, so one SQS batch mostly holds one scope's
  recipients and its charts are drawn once (``ChartCache``).
- ``ReportWorker.handle`` (one SQS message): claims ``(report, period, recipient)`` with a conditional
  put before sending, the invitations' pattern (docs/decisions.md): a claim outlives every redelivery
  (``CLAIM_LEASE``), so a redelivered job whose send is unknown never sends twice; throttling releases
  the claim and fails the message for SQS to retry; a refusal for good is recorded, not retried.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from npsloop.clock import Clock
from npsloop.domain.aggregates import OVERALL, Period
from npsloop.domain.alerts import RoutingTable
from npsloop.domain.brand import Brand
from npsloop.domain.links import LinkPurpose, sign
from npsloop.domain.programs import ProgramCatalogue
from npsloop.domain.reports import (
    NoAnswers,
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
from npsloop.domain.scope import RolesConfig, scope_of
from npsloop.domain.view_filters import ViewFilters
from npsloop.observability import count, logger
from npsloop.ports import LinkKeyStore, Mailer, MailRejected, MailUnavailable, OutgoingEmail
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
from npsloop.services.scores import ScoreQuery, ScoresService

# The worker queue's visibility timeout x maxReceiveCount (template.yaml ReportJobsQueue): no redelivery
# of a job comes after this, so a claim outlives them all (a unit test keeps them in step).
REDELIVERY_HORIZON = timedelta(minutes=5) * 5
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
            units = units_of(scope, regions)
            if not units:
                continue
            period = definition.cadence.period(fired_at, person.time_zone)
            jobs.append(
                ReportJob(
                    report_id=definition.id,
                    period=period.label,
                    start=period.start,
                    end=period.end,
                    subject=person.subject,
                    email=person.email,
                    language=person.language,
                    time_zone=person.time_zone,
                    units=tuple(units),
                    run=fired_at.astimezone(UTC).isoformat(),
                )
            )
        jobs.sort(key=lambda j: ([u.key for u in j.units], j.subject))
        self._queue.send(jobs)
        logger.info("report planned", report=definition.id, jobs=len(jobs))
        count("ReportRunsPlanned", report=definition.id)
        return {"report": definition.id, "jobs": len(jobs)}


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
    funnel: dict[str, int] | None
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
        personal_data: Callable[[ReportJob], bool] | None = None,
    ) -> None:
        self._reports = reports
        self._programs = programs
        self._scores = scores
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
        self._personal_data = personal_data or (lambda job: False)

    def handle(self, job: ReportJob) -> str:
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
            blocks = self.blocks(definition, job)
            if not any(b.has_answers for b in blocks) and definition.no_answers is NoAnswers.SKIP:
                self._claims.finish(job.claim_id, token, "skipped", now)
                count("ReportsSkipped", report=job.report_id)
                return "skipped"
            outgoing = self._compose(definition, job, blocks)
        except Exception:
            self._claims.release(job.claim_id, token)  # nothing went out: a redelivery may take over
            raise
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
    def blocks(self, definition: ReportDefinition, job: ReportJob) -> list[Block]:
        from npsloop.reports import sections

        period = job.as_period
        kind = definition.cadence.kind
        trend = trend_periods(period, kind)
        wanted = set(definition.sections)
        out = []
        for unit in job.units:
            dimension, value = _dimension(unit)
            for program_id in definition.programs:
                program = self._programs.get(program_id)
                if program is None:
                    continue
                own = self._scores.scores(
                    program.id,
                    ScoreQuery.model_validate(
                        {
                            "from": trend[0].start,
                            "to": period.end,
                            "period": kind,
                            "group_by": dimension,
                            "value": value,
                        }
                    ),
                )
                own_scores = sections.scores(own, value or OVERALL)
                comparison = None
                if Section.COMPARISON in wanted:
                    comparison = self._comparison(program.id, unit, period, kind, own_scores)
                cases = None
                if Section.CASES in wanted and self._cases is not None:
                    start = datetime.combine(period.start, time(0), ZoneInfo(job.time_zone))
                    end = datetime.combine(period.end + timedelta(days=1), time(0), ZoneInfo(job.time_zone))
                    found = [c for c in self._cases.cases(unit, start) if c.program_id == program.id]
                    cases = sections.cases(found, start, end, self._clock.now())
                funnel = None
                if Section.FUNNEL in wanted and self._funnel is not None:
                    funnel = self._funnel.funnel(program.id, unit, period.start, period.end)
                comments = None
                if Section.COMMENTS in wanted and self._comments is not None:
                    comments = self._comments.notable(
                        program.id, unit, period.start, period.end, self._personal_data(job)
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

    def _comparison(
        self, program_id: str, unit: ReportUnit, period: Period, kind: Any, own: dict[str, Any]
    ) -> dict[str, Any]:
        from npsloop.reports import sections

        def read(dimension: str, value: str | None) -> dict[str, Any]:
            return self._scores.scores(
                program_id,
                ScoreQuery.model_validate(
                    {"from": period.start, "to": period.end, "period": kind, "group_by": dimension, "value": value}
                ),
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
