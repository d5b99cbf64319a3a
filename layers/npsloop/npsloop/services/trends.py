"""The trend alert: a statistically real drop of a segment's score, found in the day aggregates.

Once a day (the cases function's ``trend-scan`` schedule) for each enabled program and each of the
rule's dimensions (store, region, channel) its program has: one Query (paged) per month of the dimension's
day aggregates over the baseline and recent windows, so the reads grow with days x segments, never with
the number of answers. Per segment, the last ``recent_days`` (up to yesterday, UTC) are compared
with the ``baseline_days`` before them by the pooled change test (``npsloop.domain.statistics``);
segments below the minimum sample in either window are not tested. Every tested segment of the scan
is one family: a drop fires when it is a Benjamini-Hochberg discovery at the rule's
``false_discovery_rate`` AND at least ``min_drop`` points.

A fired drop is routed like any alert (``routing.toml``: the store's, the region's, or the fallback
owner) and sent once per segment per block of ``recent_days`` days: a claim ``INV#TREND#<program>#
<dimension>#<value>`` / ``ALERT#<rule id>#<block>`` (``npsloop.services.steps.once``), so a re-run
scan, or the same drop seen again the next day, does not alert again. When the route asks for a digest
(``routing.toml`` ``delivery``) the owner's email becomes a line of their digest instead
(``npsloop.services.digests``); the topic message still goes at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any

from npsloop.clock import Clock
from npsloop.domain.aggregates import DayAggregate, sum_counts
from npsloop.domain.alerts import AlertRules, RoutingTable, TrendRule
from npsloop.domain.digests import DigestItem
from npsloop.domain.programs import ProgramCatalogue, SurveyProgram
from npsloop.domain.statistics import Change, Estimate, benjamini_hochberg, ces, change, csat, nps
from npsloop.domain.surveys import SurveyType
from npsloop.notices import Notice, Notifier
from npsloop.observability import count, logger
from npsloop.ports.cases import AlertClaims, DigestBook
from npsloop.ports.scoring import AggregateReader
from npsloop.services.digests import record as record_in_digest
from npsloop.services.steps import once

BLOCKS_FROM = date(2026, 1, 5)  # a Monday: blocks of recent_days count from here


@dataclass(frozen=True)
class SegmentTrend:
    program: SurveyProgram
    dimension: str
    value: str
    recent: Estimate
    baseline: Estimate
    moved: Change | None  # None: no score in a window

    @property
    def claim_id(self) -> str:
        return f"TREND#{self.program.id}#{self.dimension}#{self.value}"


def _estimate(survey_type: SurveyType, counts: dict[int, int], minimum: int) -> Estimate:
    if survey_type is SurveyType.NPS:
        return nps(counts, minimum)
    if survey_type is SurveyType.CSAT:
        return csat(counts, minimum)
    return ces(counts, minimum)[0]


def windows(rule: TrendRule, today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """(baseline first, last), (recent first, last): the recent window ends yesterday."""
    recent_last = today - timedelta(days=1)
    recent_first = today - timedelta(days=rule.recent_days)
    baseline_last = recent_first - timedelta(days=1)
    return (recent_first - timedelta(days=rule.baseline_days), baseline_last), (recent_first, recent_last)


def measure(
    program: SurveyProgram,
    dimension: str,
    value: str,
    days: Iterable[DayAggregate],
    *,
    rule: TrendRule,
    today: date,
    minimum: int,
) -> SegmentTrend:
    """One segment's recent window against its baseline, from its day aggregates (others are ignored)."""
    (base_first, base_last), (recent_first, recent_last) = windows(rule, today)
    days = list(days)
    baseline = _estimate(program.survey, sum_counts(d for d in days if base_first <= d.day <= base_last)[1], minimum)
    recent = _estimate(program.survey, sum_counts(d for d in days if recent_first <= d.day <= recent_last)[1], minimum)
    return SegmentTrend(program, dimension, value, recent, baseline, change(recent, baseline))


def scan(
    programs: ProgramCatalogue, rule: TrendRule | None, aggregates: AggregateReader, today: date
) -> list[SegmentTrend]:
    """The segments whose drop fires on ``today`` (the alert and the dashboard both ask this)."""
    if rule is None or not rule.enabled:
        return []
    family = tested(programs, rule, aggregates, today)
    fired = discoveries(family, rule)
    logger.info("trend scan", segments=len(family), discoveries=len(fired))
    return fired


def tested(programs: ProgramCatalogue, rule: TrendRule, aggregates: AggregateReader, today: date) -> list[SegmentTrend]:
    """Every segment the scan tests on ``today``: each enabled program x rule dimension it counts by, with
    enough answers in both windows. One Query (paged) per program x dimension."""
    minimum = programs.statistics.minimum_sample
    (base_first, _), (_, recent_last) = windows(rule, today)
    found: list[SegmentTrend] = []
    for program in programs.program:
        if not program.enabled:
            continue
        for dimension in (d for d in rule.dimensions if d in program.dimensions):
            by_value: dict[str, list[DayAggregate]] = defaultdict(list)
            for aggregate in aggregates.read(program.id, dimension, base_first, recent_last):
                by_value[aggregate.value].append(aggregate)
            for value, days in sorted(by_value.items()):
                trend = measure(program, dimension, value, days, rule=rule, today=today, minimum=minimum)
                if trend.moved is not None and trend.moved.testable:
                    found.append(trend)
    return found


def discoveries(family: list[SegmentTrend], rule: TrendRule) -> list[SegmentTrend]:
    """The drops that fire: Benjamini-Hochberg discoveries across the whole ``family`` (every segment
    tested) AND at least ``min_drop`` points down."""
    found = benjamini_hochberg([t.moved.p_value for t in family if t.moved], rule.false_discovery_rate)
    return [t for t, hit in zip(family, found, strict=True) if hit and t.moved and t.moved.delta <= -rule.min_drop]


class TrendService:
    def __init__(
        self,
        *,
        programs: ProgramCatalogue,
        rules: AlertRules,
        routing: RoutingTable,
        aggregates: AggregateReader,
        claims: AlertClaims,
        notifier: Notifier,
        clock: Clock,
        digests: DigestBook,
    ) -> None:
        self._digests = digests
        self._programs = programs
        self._rule = rules.trend
        self._routing = routing
        self._aggregates = aggregates
        self._claims = claims
        self._notifier = notifier
        self._clock = clock

    def drops(self, today: date) -> list[SegmentTrend]:
        """The segments whose drop fires on ``today``."""
        return scan(self._programs, self._rule, self._aggregates, today)

    def scan(self, event: dict[str, Any] | None = None) -> dict[str, int]:
        """Alert every firing drop once per segment and block; returns what it did."""
        rule = self._rule
        today = self._clock.now().astimezone(UTC).date()
        fired = self.drops(today)
        sent = 0
        if rule is None:
            return {"drops": 0, "alerts_sent": 0}
        block = (today - BLOCKS_FROM).days // rule.recent_days
        for trend in fired:
            step = f"ALERT#{rule.id}#{block}"
            if once(
                self._claims, self._clock, trend.claim_id, step, lambda trend=trend: self._alert(rule, trend, today)
            ):
                sent += 1
        return {"drops": len(fired), "alerts_sent": sent}

    def _alert(self, rule: TrendRule, trend: SegmentTrend, today: date) -> None:
        assert trend.moved is not None  # scan() returns tested segments only
        context = {trend.dimension: trend.value}
        route = self._routing.route(context)
        (base_first, base_last), (recent_first, recent_last) = windows(rule, today)
        survey = trend.program.survey.value.upper()
        recent, baseline = trend.recent, trend.baseline
        summary = (
            f"{survey} fell {abs(trend.moved.delta):.1f} points at {trend.dimension} {trend.value}: "
            f"{recent.display()} from {recent.n} answers {recent_first}..{recent_last}, against "
            f"{baseline.display()} from {baseline.n} answers {base_first}..{base_last} "
            f"(p = {trend.moved.p_value:.2g}, significant after Benjamini-Hochberg across the segments scanned)."
        )
        notice = Notice(
            kind="alert",
            recipient=route.owner,
            severity=rule.severity.value,
            invitation_id=trend.claim_id,
            program_id=trend.program.id,
            survey_type=trend.program.survey.value,
            score=recent.whole or 0,
            customer_id="-",
            context=context,
            team=route.team,
            rule=rule.id,
            comment=summary,
            time_zone=route.time_zone,
            extra={
                "trend": {
                    "dimension": trend.dimension,
                    "value": trend.value,
                    "recent": {"from": recent_first.isoformat(), "to": recent_last.isoformat(), "n": recent.n},
                    "baseline": {"from": base_first.isoformat(), "to": base_last.isoformat(), "n": baseline.n},
                    "recent_score": recent.value,
                    "baseline_score": baseline.value,
                    "delta": round(trend.moved.delta, 4),
                    "p_value": trend.moved.p_value,
                }
            },
        )
        if route.immediate:
            self._notifier.send(notice, route.channel)
        else:  # the entry asks for a digest: the topic now (machines), the owner's email in the digest
            if route.channel.sns:
                self._notifier.publish(notice)
            if route.channel.email:
                item = DigestItem(
                    ref=trend.claim_id,
                    kind="trend",
                    alerted_at=self._clock.now(),
                    severity=rule.severity.value,
                    survey_type=trend.program.survey.value,
                    score=recent.whole or 0,
                    comment=summary,
                    rules=("trend",),
                    **{trend.dimension: trend.value} if trend.dimension in ("store", "region", "channel") else {},
                )
                record_in_digest(self._digests, self._clock, route, item)
        logger.info("trend alert sent", program_id=trend.program.id, dimension=trend.dimension, value=trend.value)
        count("AlertsSent", rule=rule.id)
