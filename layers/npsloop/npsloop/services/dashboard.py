"""The dashboard's overview (``GET /dashboard``): what one view's filters show, within the caller's scope.

Everything comes from the day aggregates through ``ScoresService``, so the reads per view depend on
days x groups and never on the number of answers. A view queries each program x dimension partition
it needs once (``PartitionReads``): the tiles read each program's partition of the view's segment over
the window and the one before it, and the selected program's trend, its table and, for a segment, the
network's overall score reuse what was read where they can: four queries for a view of the network
or of one store (the three tile partitions and one more: the store table's, or the network's), five
for a region (its tiles, its table of stores, the network; four with its table of regions).

Scope (``npsloop.domain.scope``) is enforced here, not in the form: a view without a segment shows a
store or regional manager their own region or store (never the network as if it were theirs); a
segment outside the scope is ``ScopeDenied`` (403); the table lists only the groups the caller
reaches, ranked and tested among themselves. Someone who reads no scores at all gets
``NoScoreReach`` (the page explains and links to their cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from npsloop.clock import Clock
from npsloop.domain.aggregates import OVERALL, DayAggregate
from npsloop.domain.alerts import AlertRules, RoutingTable, TrendRule
from npsloop.domain.programs import ProgramCatalogue, SurveyProgram
from npsloop.domain.scope import Scope
from npsloop.domain.view_filters import GROUP_SCORES, InvalidFilters, ScoreGroup, ViewFilters
from npsloop.ports.cases import AlertClaims
from npsloop.ports.scoring import AggregateReader, ThemeReader
from npsloop.services.scores import ScoreQuery, ScoresService, control
from npsloop.services.trends import SegmentTrend, discoveries, measure, tested, windows

TABLE_DIMENSIONS = ("store", "region")
# How long a container reuses its trend scan: the aggregates move in the score consumer's 300 s batches.
SCAN_FRESH_SECONDS = 300


class NoScoreReach(PermissionError):
    """The caller's roles read no scores (a plain case owner): the page says so and links to their cases."""


@dataclass(frozen=True)
class Tile:
    program: SurveyProgram
    total: dict[str, Any]  # n, display, interval, small_sample, counts
    previous: dict[str, Any]  # the same over the window of equal length before
    change: dict[str, Any] | None  # delta, p_value, testable, significant (BH across the tiles)


@dataclass(frozen=True)
class Baseline:
    """The trend alert's view of the segment (``npsloop.services.trends``): its recent window against the
    baseline window before it, and whether today's scan finds a real drop here (``fired``)."""

    rule: TrendRule
    trend: SegmentTrend  # the view's segment and selected program: recent and baseline estimates
    baseline_first: date
    baseline_last: date
    recent_first: date
    recent_last: date
    fired: SegmentTrend | None  # the scan's discovery for this segment and program, if any
    watched: bool  # the trend alert tests this segment (a store, region or channel), not the network
    alerted_at: datetime | None = None  # the trend alert's last alert for this segment, within two windows

    @property
    def baseline_weeks(self) -> int | None:
        return self.rule.baseline_days // 7 if self.rule.baseline_days % 7 == 0 else None


@dataclass(frozen=True)
class Overview:
    filters: ViewFilters  # as shown: the scope's own segment filled in when the URL names none
    program: SurveyProgram
    first: date
    last: date
    tiles: list[Tile]
    trend: list[dict[str, Any]]  # the selected program's periods (ScoresService.scores)
    split: dict[ScoreGroup, int]  # promoters / passives / detractors (named per scale) of the selected program
    distribution: list[tuple[int, int]]  # (score, answers) over the scale
    by: str  # "store" or "region"
    table: dict[str, Any]  # ScoresService.compare of the table's dimension, only the groups in scope
    network: dict[str, Any] | None  # the overall score of the selected program, when the view is a segment
    tile_tests: int  # the size of the tiles' Benjamini-Hochberg family
    false_discovery_rate: float
    themes: dict[str, Any] | None = None  # per score group: analysed comments and top themes (services/themes.py)
    baseline: Baseline | None = None  # None: the trend rule is off
    drops: tuple[SegmentTrend, ...] = ()  # the scan's real drops of the selected program the caller may read

    @property
    def segment(self) -> tuple[str, str]:
        return self.filters.segment

    @property
    def selected(self) -> Tile:
        return next(t for t in self.tiles if t.program.id == self.program.id)


def _may_read(scope: Scope, dimension: str, value: str) -> bool:
    if dimension == "store":
        return scope.may_read_store(value)
    if dimension == "region":
        return scope.may_read_region(value)
    return scope.all_stores  # channel and context keys span every store


class PartitionReads(AggregateReader):
    """One view's reads: a program x dimension partition is queried once, over the widest range asked
    so far; a later read within that range (another value, fewer days) is answered from it.

    Picking one value costs the same query either way (the value is the sort key's tail), so holding
    all values of the range reads nothing more. Lives for one view: the next one reads afresh.
    """

    def __init__(self, aggregates: AggregateReader) -> None:
        self._aggregates = aggregates
        self._held: dict[tuple[str, str], tuple[date, date, list[DayAggregate]]] = {}

    def read(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[DayAggregate]:
        held = self._held.get((program_id, dimension))
        if held is None or not (held[0] <= first_day and last_day <= held[1]):
            first, last = (first_day, last_day) if held is None else (min(held[0], first_day), max(held[1], last_day))
            held = (first, last, self._aggregates.read(program_id, dimension, first, last))
            self._held[(program_id, dimension)] = held
        return [a for a in held[2] if first_day <= a.day <= last_day and (value is None or a.value == value)]


class DashboardService:
    def __init__(
        self,
        *,
        programs: ProgramCatalogue,
        routing: RoutingTable,
        rules: AlertRules,
        aggregates: AggregateReader,
        clock: Clock,
        themes: ThemeReader | None = None,
        alerts: AlertClaims | None = None,
    ) -> None:
        self._programs = programs
        self._trend_rule = rules.trend if rules.trend is not None and rules.trend.enabled else None
        self._scanned: tuple[datetime, date, list[SegmentTrend]] | None = None  # when, for which day, drops
        self._routing = routing
        self._aggregates = aggregates
        self._themes = themes  # the theme aggregates (issue 12): the themes card; none, no card
        self._alerts = alerts  # the trend alert's claims: when it last alerted on the view's segment
        self._clock = clock

    def own_view(self, filters: ViewFilters, scope: Scope) -> ViewFilters:
        """The view as the caller may see it: without a segment, a scoped caller's own region or store."""
        if not scope.reads_scores:
            raise NoScoreReach(scope.describe())
        dimension, _ = filters.segment
        if dimension != OVERALL or scope.all_stores:
            return filters
        if scope.regions:
            return filters.with_(region=sorted(scope.regions)[0])
        return filters.with_(store=sorted(scope.stores)[0])

    def overview(self, filters: ViewFilters, scope: Scope, by: str = "store", *, with_trend: bool = True) -> Overview:
        """The view; ``with_trend=False`` leaves out the trend alert's baseline and drops (the polled fragment
        shows neither, and skips the scan's reads)."""
        filters = self.own_view(filters, scope)
        reads = PartitionReads(self._aggregates)
        scores = ScoresService(programs=self._programs, aggregates=reads, clock=self._clock, themes=self._themes)
        dimension, value = filters.segment
        scope.score_groups(dimension, value)  # ScopeDenied: a segment outside the caller's reach
        program = self._program(filters.program)
        first, last = filters.window(self._clock.now().astimezone(UTC).date())
        segment_value = None if dimension == OVERALL else value

        tiles = []
        for item in self._programs.program:
            if dimension != OVERALL and dimension not in item.dimensions:
                continue  # this program does not count answers by the view's segment
            compared = scores.compare(item.id, dimension, first, last, value=segment_value)
            (group,) = compared["groups"]
            tiles.append(Tile(item, group["total"], group["previous"], group["change"]))
        family = [t.change for t in tiles if t.change is not None and t.change["testable"]]
        settings = self._programs.statistics
        control(family, settings.false_discovery_rate)
        if not any(t.program.id == program.id for t in tiles):
            raise InvalidFilters(f"program {program.id} does not count answers by {dimension}")

        query = ScoreQuery.model_validate(
            {"from": first, "to": last, "period": filters.period, "group_by": dimension, "value": segment_value}
        )
        (trend,) = scores.scores(program.id, query)["groups"]
        selected = next(t for t in tiles if t.program.id == program.id)
        counts = {int(k): v for k, v in selected.total["counts"].items()}
        split = {group: sum(counts.get(s, 0) for s in values) for group, values in GROUP_SCORES[program.survey].items()}

        by, only = self._table_groups(scope, by, dimension, value)
        table = scores.compare(program.id, by, first, last, only=only)
        network = None
        if dimension != OVERALL:
            (overall,) = scores.compare(program.id, OVERALL, first, last)["groups"]
            network = overall["total"]
        return Overview(
            filters=filters,
            program=program,
            first=first,
            last=last,
            tiles=tiles,
            trend=trend["periods"],
            split=split,
            distribution=sorted(counts.items()),
            by=by,
            table=table,
            network=network,
            tile_tests=len(family),
            false_discovery_rate=settings.false_discovery_rate,
            themes=trend.get("themes"),
            **(self._trend(reads, program, dimension, value, scope) if with_trend else {}),
        )

    def _trend(
        self, reads: AggregateReader, program: SurveyProgram, dimension: str, value: str, scope: Scope
    ) -> dict[str, Any]:
        """The trend alert's baseline for the view's segment and the scan's drops the caller may read.

        The same computation as the daily scan (``trends.scan``, one family across every segment), as of
        today, through this view's reads (the partitions it shares with the tiles and table are not read
        again). The other segments' tests are reused for a few minutes (``_family``); the view's own segment is
        always measured afresh, so what the page says about it matches the numbers it shows."""
        rule = self._trend_rule
        if rule is None:
            return {}
        today = self._clock.now().astimezone(UTC).date()
        (base_first, base_last), (recent_first, recent_last) = windows(rule, today)
        minimum = self._programs.statistics.minimum_sample
        days = reads.read(program.id, dimension, base_first, recent_last, value=value)
        trend = measure(program, dimension, value, days, rule=rule, today=today, minimum=minimum)
        # the family as the scan tests it, with this view's segment as it stands now
        key = (program.id, dimension, value)
        family = [t for t in self._family(rule, reads, today) if (t.program.id, t.dimension, t.value) != key]
        watched = program.enabled and dimension in rule.dimensions and dimension in program.dimensions
        if watched and trend.moved is not None and trend.moved.testable:
            family.append(trend)
        drops = [t for t in discoveries(family, rule) if t.program.id == program.id]
        fired = next((t for t in drops if (t.dimension, t.value) == (dimension, value)), None)
        alerted_at = None
        if watched and fired is None and self._alerts is not None:  # today too few to test, say, but it alerted
            last = self._alerts.last_done(trend.claim_id, f"ALERT#{rule.id}#")
            if last is not None and last.astimezone(UTC).date() >= recent_first - timedelta(days=rule.recent_days):
                alerted_at = last
        baseline = Baseline(rule, trend, base_first, base_last, recent_first, recent_last, fired, watched, alerted_at)
        return {"baseline": baseline, "drops": tuple(t for t in drops if _may_read(scope, t.dimension, t.value))}

    def _family(self, rule: TrendRule, reads: AggregateReader, today: date) -> list[SegmentTrend]:
        """The segments today's trend scan tests, reused for ``SCAN_FRESH_SECONDS`` by this container (the
        same for everyone); the view's own segment is measured afresh by the caller."""
        now = self._clock.now()
        held = self._scanned
        if held is not None and held[1] == today and (now - held[0]).total_seconds() < SCAN_FRESH_SECONDS:
            return held[2]
        found = tested(self._programs, rule, reads, today)
        self._scanned = (now, today, found)
        return found

    def _program(self, program_id: str | None) -> SurveyProgram:
        if program_id is None:
            return self._programs.program[0]
        program = self._programs.get(program_id)
        if program is None:
            known = ", ".join(p.id for p in self._programs.program)
            raise InvalidFilters(f"program: no program {program_id!r} (one of: {known})")
        return program

    def _table_groups(self, scope: Scope, by: str, dimension: str, value: str) -> tuple[str, frozenset[str] | None]:
        """The table's dimension and the groups it lists: those in the caller's scope (and, for a region
        view, that region's stores). A caller with no region reach gets the store table."""
        if by not in TABLE_DIMENSIONS or (by == "region" and not (scope.all_stores or scope.regions)):
            by = "store"
        only = scope.score_groups(by, None)
        if by == "store" and dimension == "region":
            in_region = frozenset(s.id for s in self._routing.store if s.region == value)
            only = in_region if only is None else only & in_region
        return by, only
