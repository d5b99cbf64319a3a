"""The score API's answers, computed from the day aggregates.

"What is the NPS of store X this month, and how sure are we": the days of the requested range and of
the period before it are read in one query (paged) per month on the dimension's partitions, summed into
periods (days, ISO weeks or calendar months, clipped to the range), and each period gets its exact
score, 95% interval, small-sample flag and its change against the period before with a z-test.
The reads depend on days x groups, never on the number of responses.

Not misleading: ``min_sample`` cannot go below the configured floor (programs.toml ``[statistics]``);
groups are ranked by the lower bound of their whole-range interval, and only those with at least
``min_sample`` answers (the others are listed apart, unranked); and every change in one answer is
one family of tests, controlled with Benjamini-Hochberg, so a table of 20 stores does not show a
"significant" change by chance alone.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from npsloop.clock import Clock
from npsloop.domain.aggregates import (
    OVERALL,
    DayAggregate,
    Period,
    PeriodKind,
    periods_between,
    previous_period,
    sum_counts,
)
from npsloop.domain.programs import ProgramCatalogue, SurveyProgram
from npsloop.domain.statistics import Estimate, benjamini_hochberg, ces, change, csat, nps
from npsloop.domain.surveys import SCALES, SurveyType
from npsloop.domain.themes import ThemeDay
from npsloop.ports.scoring import AggregateReader, ThemeReader
from npsloop.services.themes import themes_json, themes_of

MAX_RANGE_DAYS = 400
_PLACES = 4  # derived statistics are rounded to this many decimals; the score itself is exact


class UnknownProgram(LookupError):
    """No program with that id."""


class InvalidQuery(ValueError):
    """The query is well-formed but asks for something impossible; the message says why."""


class ScoreQuery(BaseModel):
    """The query string of ``GET /api/programs/{program_id}/scores``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    period: PeriodKind = PeriodKind.MONTH
    group_by: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")] = OVERALL
    value: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    min_sample: Annotated[int, Field(ge=1, le=1_000_000)] | None = None  # None: the configured floor

    def window(self, today: date) -> tuple[date, date]:
        """The inclusive date range; by default the current month so far."""
        last = self.to or today
        first = self.from_ or last.replace(day=1)
        if first > last:
            raise InvalidQuery(f"from ({first}) is after to ({last})")
        days = (last - first).days + 1
        if days > MAX_RANGE_DAYS:
            raise InvalidQuery(f"the range spans {days} days; at most {MAX_RANGE_DAYS}")
        return first, last


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, _PLACES)


def _interval(estimate: Estimate) -> dict[str, float | None] | None:
    if estimate.value is None:
        return None
    return {"low": _r(estimate.low), "high": _r(estimate.high), "margin": _r(estimate.margin)}


def _display(survey_type: SurveyType, estimate: Estimate) -> int | float | None:
    if estimate.value is None:
        return None
    return round(estimate.value, 1) if survey_type is SurveyType.CES else estimate.whole


def _estimates(survey_type: SurveyType, counts: dict[int, int], minimum: int) -> tuple[Estimate, Estimate | None]:
    """The headline estimate, and for CES the share answering 5-7."""
    if survey_type is SurveyType.NPS:
        return nps(counts, minimum), None
    if survey_type is SurveyType.CSAT:
        return csat(counts, minimum), None
    mean, agree = ces(counts, minimum)
    return mean, agree


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


class KeptReads(AggregateReader):
    """One invocation's aggregate reads, each range of a partition read once: a later read of a range it
    holds (any value, any days inside it) is answered from memory.

    Reading a partition for one value costs what reading it for all its values costs (the value is the
    sort key's tail, picked after the Query: ``DynamoAggregates._days``), so a range is read for every
    value and kept whole. Made per invocation (``ScoresService.for_invocation``) and dropped with it:
    what it holds is never older than the invocation.
    """

    def __init__(self, reader: AggregateReader) -> None:
        self._reader = reader
        self._kept: dict[tuple[str, str], list[tuple[date, date, list[DayAggregate]]]] = defaultdict(list)
        self.reads = 0  # ranges read from the reader (the tests count them)

    def read(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[DayAggregate]:
        ranges = self._kept[program_id, dimension]
        days = next((days for first, last, days in ranges if first <= first_day and last_day <= last), None)
        if days is None:
            days = self._reader.read(program_id, dimension, first_day, last_day)
            self.reads += 1
            ranges.append((first_day, last_day, days))
        return [d for d in days if first_day <= d.day <= last_day and (value is None or d.value == value)]


class ScoresService:
    def __init__(
        self,
        *,
        programs: ProgramCatalogue,
        aggregates: AggregateReader,
        clock: Clock,
        themes: ThemeReader | None = None,
    ) -> None:
        self._programs = programs
        self._aggregates = aggregates
        self._clock = clock
        self._themes = themes  # the theme aggregates: each group's top themes (none: no "themes")

    def for_invocation(self) -> ScoresService:
        """This service reading through a fresh ``KeptReads``: for one invocation whose answers read
        overlapping ranges of a partition (a report's blocks and comparisons), each range read once."""
        return ScoresService(
            programs=self._programs, aggregates=KeptReads(self._aggregates), clock=self._clock, themes=self._themes
        )

    def scores(self, program_id: str, query: ScoreQuery) -> dict[str, Any]:
        program = self._programs.get(program_id)
        if program is None:
            raise UnknownProgram(program_id)
        dimension = query.group_by
        if dimension != OVERALL and dimension not in program.dimensions:
            known = ", ".join((OVERALL, *program.dimensions))
            raise InvalidQuery(f"group_by {dimension!r} is not a dimension of {program.id} (one of: {known})")
        if query.value is not None and dimension == OVERALL:
            raise InvalidQuery("value picks one group: name its dimension with group_by (e.g. group_by=store)")
        settings = self._programs.statistics
        minimum = settings.minimum_sample if query.min_sample is None else query.min_sample
        if minimum < settings.minimum_sample:
            raise InvalidQuery(
                f"min_sample {minimum} is below this deployment's floor of {settings.minimum_sample} answers"
                " (programs.toml [statistics] minimum_sample): smaller samples are too noisy to rank or compare"
            )
        first, last = query.window(self._clock.now().astimezone(UTC).date())
        periods = periods_between(first, last, query.period)
        before = previous_period(periods[0], query.period)
        aggregates = self._aggregates.read(program.id, dimension, before.start, last, query.value)

        by_group: dict[str, list[DayAggregate]] = defaultdict(list)
        for aggregate in aggregates:
            by_group[aggregate.value].append(aggregate)
        in_range = {a.value for a in aggregates if first <= a.day <= last}
        if dimension == OVERALL:
            in_range.add(OVERALL)
        if query.value is not None:
            in_range.add(query.value)
        groups = [
            {
                "value": value,
                "total": _public(self._total(program, by_group[value], first, last, minimum)),
                "periods": self._periods(
                    program,
                    days=by_group[value],
                    periods=periods,
                    before=before,
                    first=first,
                    last=last,
                    minimum=minimum,
                ),
            }
            for value in sorted(in_range)
        ]
        if self._themes is not None:
            theme_days: dict[str, list[ThemeDay]] = defaultdict(list)
            for day in self._themes.read_themes(program.id, dimension, first, last, query.value):
                theme_days[day.value].append(day)
            for group in groups:
                group["themes"] = themes_json(themes_of(theme_days[group["value"]]))
        ranking = _rank(groups) if dimension != OVERALL else None
        tests = _control(groups, settings.false_discovery_rate)
        return {
            "program_id": program.id,
            "survey_type": program.survey.value,
            "period": query.period.value,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "group_by": dimension,
            "value": query.value,
            "min_sample": minimum,
            "significance": (
                f"pooled two-sided z-test, Benjamini-Hochberg q={settings.false_discovery_rate:g}"
                f" across {_many(tests, 'change')} ({_many(len(groups), 'group')} x {_many(len(periods), 'period')})"
            ),
            "ranking": ranking,
            "groups": groups,
        }

    def compare(
        self,
        program_id: str,
        dimension: str,
        first: date,
        last: date,
        *,
        value: str | None = None,
        only: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """Each group's score over ``first..last`` against the window of equal length just before it.

        One query (paged) on the dimension's partition spans both windows. ``value`` reads one group
        (it is listed even without answers); ``only`` keeps those groups (a caller's scope) before they
        are ranked and tested, so the ranks and the Benjamini-Hochberg family are those of the groups
        shown. Each group's ``total`` carries its counts per score value (the distribution).
        """
        program = self._programs.get(program_id)
        if program is None:
            raise UnknownProgram(program_id)
        if dimension != OVERALL and dimension not in program.dimensions:
            raise InvalidQuery(f"{dimension!r} is not a dimension of {program.id}")
        settings = self._programs.statistics
        minimum = settings.minimum_sample
        length = (last - first).days + 1
        if length > MAX_RANGE_DAYS:
            raise InvalidQuery(f"the range spans {length} days; at most {MAX_RANGE_DAYS}")
        before_first, before_last = first - timedelta(days=length), first - timedelta(days=1)
        aggregates = self._aggregates.read(program.id, dimension, before_first, last, value)
        by_group: dict[str, list[DayAggregate]] = defaultdict(list)
        for aggregate in aggregates:
            by_group[aggregate.value].append(aggregate)
        names = {a.value for a in aggregates if first <= a.day <= last}
        names |= {value} if value is not None else ({OVERALL} if dimension == OVERALL else set())
        if only is not None:
            names &= only
        groups = []
        for name in sorted(names):
            days = by_group[name]
            now = self._total(program, days, first, last, minimum)
            before = self._total(program, days, before_first, before_last, minimum)
            moved = change(now.pop("estimate"), before.pop("estimate"))
            groups.append(
                {
                    "value": name,
                    "total": now,
                    "previous": {**before, "from": before_first.isoformat(), "to": before_last.isoformat()},
                    "change": None
                    if moved is None
                    else {
                        "delta": _r(moved.delta),
                        "p_value": _r(moved.p_value),
                        "testable": moved.testable,
                        "significant": moved.significant,
                    },
                }
            )
        ranking = _rank(groups) if dimension != OVERALL else None
        family = [g["change"] for g in groups if g["change"] is not None and g["change"]["testable"]]
        control(family, settings.false_discovery_rate)
        return {
            "program_id": program.id,
            "survey_type": program.survey.value,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "dimension": dimension,
            "min_sample": minimum,
            "tests": len(family),
            "false_discovery_rate": settings.false_discovery_rate,
            "ranking": ranking,
            "groups": groups,
        }

    def _total(
        self, program: SurveyProgram, days: list[DayAggregate], first: date, last: date, minimum: int
    ) -> dict[str, Any]:
        """The group's score over the whole range: what it is ranked by."""
        n, counts, _ = sum_counts(d for d in days if first <= d.day <= last)
        estimate, _ = _estimates(program.survey, counts, minimum)
        return {
            "n": n,
            "score": estimate.value,
            "display": _display(program.survey, estimate),
            "interval": _interval(estimate),
            "small_sample": estimate.small_sample,
            "counts": {str(score): counts.get(score, 0) for score in SCALES[program.survey].values},
            "estimate": estimate,
        }

    def _periods(
        self,
        program: SurveyProgram,
        *,
        days: list[DayAggregate],
        periods: list[Period],
        before: Period,
        first: date,
        last: date,
        minimum: int,
    ) -> list[dict[str, Any]]:
        survey_type = program.survey
        previous_label = before.label
        by_day = {d.day: d for d in days}  # one aggregate per value and day

        def between(start: date, end: date) -> list[DayAggregate]:
            return [by_day[day] for day in _days(start, end) if day in by_day]

        previous, _ = _estimates(survey_type, sum_counts(between(before.start, before.end))[1], minimum)
        result = []
        for period in periods:
            start, end = max(period.start, first), min(period.end, last)
            n, counts, commented = sum_counts(between(start, end))
            estimate, agree = _estimates(survey_type, counts, minimum)
            moved = change(estimate, previous)
            entry: dict[str, Any] = {
                "period": period.label,
                "from": start.isoformat(),
                "to": end.isoformat(),
                "n": n,
                "counts": {str(score): counts.get(score, 0) for score in SCALES[survey_type].values},
                "commented": commented,
                "score": estimate.value,
                "display": _display(survey_type, estimate),
                "interval": _interval(estimate),
                "small_sample": estimate.small_sample,
                "change": None
                if moved is None
                else {
                    "previous_period": previous_label,
                    "delta": _r(moved.delta),
                    "z": _r(moved.z),
                    "p_value": _r(moved.p_value),
                    "testable": moved.testable,
                    "significant": moved.significant,  # until _control judges the family
                },
            }
            if agree is not None:
                entry["agree"] = {"score": agree.value, "display": agree.whole, "interval": _interval(agree)}
            result.append(entry)
            previous, previous_label = estimate, period.label
        return result


def _many(k: int, noun: str) -> str:
    return f"{k} {noun}" if k == 1 else f"{k} {noun}s"


def _rank(groups: list[dict[str, Any]]) -> dict[str, Any]:
    """Rank the groups with enough answers by their interval's lower bound (highest first); list the
    others apart. Ordering by the lower bound puts a store only as high as its answers prove: a
    store with 35 answers and NPS 60 [38, 78] ranks below one with 400 and 52 [45, 59]."""
    enough = [g for g in groups if not g["total"]["small_sample"] and g["total"]["interval"] is not None]
    enough.sort(key=lambda g: (-g["total"]["interval"]["low"], g["value"]))
    for place, group in enumerate(enough, start=1):
        group["rank"] = place
    for group in groups:
        group.setdefault("rank", None)
    return {
        "by": "lower bound of the 95% interval over the whole range",
        "ranked": [g["value"] for g in enough],
        "unranked": sorted(g["value"] for g in groups if g["rank"] is None),
    }


def _public(total: dict[str, Any]) -> dict[str, Any]:
    """The score API's total: as before, without the estimate object and the counts."""
    return {k: v for k, v in total.items() if k not in ("estimate", "counts")}


def control(family: list[dict[str, Any]], q: float) -> None:
    """Benjamini-Hochberg across a family of testable changes (dicts with ``p_value``): sets ``significant``."""
    found = benjamini_hochberg([c["p_value"] for c in family], q)
    for entry, discovery in zip(family, found, strict=True):
        entry["significant"] = discovery


def _control(groups: list[dict[str, Any]], q: float) -> int:
    """Benjamini-Hochberg across every testable change in the answer; returns the family's size."""
    family = [p["change"] for g in groups for p in g["periods"] if p["change"] is not None and p["change"]["testable"]]
    control(family, q)
    return len(family)
