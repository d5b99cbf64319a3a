"""Score aggregates: exact counts per program x dimension x value x UTC day, and the periods they sum to.

A response counts once in the overall aggregate (dimension ``all``, value ``all``) and once per
dimension of its program whose context key it carries (``store``, ``region``, ``channel``...), on
the UTC day it was created. An aggregate holds the number of responses, the count per score value
and how many carry a comment, so NPS, CSAT, CES and their distributions derive exactly; weeks and
months are sums of days.

A change to a response contributes ``new - old``: an INSERT adds one at the new score, a REMOVE
takes one away at the old score, a MODIFY moves the count only when the score changed (a
comment-only change moves nothing but ``commented``). Contributions that share a key are coalesced
into one delta, and deltas that cancel out are dropped, so a batch writes each key at most once.

One day item per program x dimension x value x day holds all the day's counters: the score's
(``n``, ``c<score>``, ``commented``), the funnel's (``f#<stage>``, domain/funnel.py) and the
themes' (``a#``, ``s#``, ``t#``, domain/themes.py). A batch sums a key's three kinds of delta into
one ``DayDelta``, so an answer whose score, funnel stage and analysed comment land on the same day
costs one write per key, not three.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Generic, Self, TypeAlias, TypeVar

from npsloop.domain.responses import Response
from npsloop.domain.surveys import SurveyType

if TYPE_CHECKING:
    from npsloop.domain.themes import ThemeDelta

OVERALL = "all"
MAX_VALUE_LENGTH = 128  # a context value longer than this is not a segment anyone groups by: it is left out
AGGREGATE_PREFIX = "AGG#"
T = TypeVar("T")


@dataclass(frozen=True, order=True)
class AggregateKey:
    program_id: str
    dimension: str
    value: str
    day: date

    @property
    def pk(self) -> str:
        return partition_of(self.program_id, self.dimension, self.day)

    @property
    def sk(self) -> str:
        return f"{self.day.isoformat()}#{self.value}"


def partition_of(program_id: str, dimension: str, day: date) -> str:
    """The partition of a dimension's days in the UTC month of ``day``: ``AGG#<program>#<dimension>#<yyyy-mm>``.

    A month per partition bounds it (days x values of one month), spreads an import of history over
    as many partition key values as months, and keeps a 30-day read to one or two Queries.
    """
    return f"{AGGREGATE_PREFIX}{program_id}#{dimension}#{day.year:04d}-{day.month:02d}"


_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def partition_parts(pk: str) -> tuple[str, str, str]:
    """``(program_id, dimension, yyyy-mm)`` of a partition (program ids and dimension names hold no ``#``)."""
    parts = pk.split("#")
    if len(parts) != 4 or not _MONTH.fullmatch(parts[3]):
        raise ValueError(f"{pk!r} is not an aggregate partition (AGG#<program>#<dimension>#<yyyy-mm>)")
    return parts[1], parts[2], parts[3]


def month_spans(first_day: date, last_day: date) -> list[tuple[date, date]]:
    """The part of ``first_day..last_day`` in each UTC month it touches, in order (one partition each)."""
    return [
        (max(first_day, month.start), min(last_day, month.end))
        for month in periods_between(first_day, last_day, PeriodKind.MONTH)
    ]


@dataclass
class Delta:
    """What a batch adds to one aggregate: responses, count per score value, responses with a comment."""

    survey_type: SurveyType
    n: int = 0
    counts: dict[int, int] = field(default_factory=dict)
    commented: int = 0

    def empty(self) -> Delta:
        return Delta(self.survey_type)

    def fixed(self) -> dict[str, str]:
        """Attributes the item is SET to (the same on every write)."""
        return {"survey_type": self.survey_type.value}

    def counters(self) -> list[tuple[str, int]]:
        """Attributes the write ADDs to, with their amounts (zeros left out)."""
        parts = [("n", self.n), ("commented", self.commented), *((f"c{s}", k) for s, k in sorted(self.counts.items()))]
        return [(name, amount) for name, amount in parts if amount]

    def add(self, other: Delta) -> None:
        self.n += other.n
        self.commented += other.commented
        for score, k in other.counts.items():
            self.counts[score] = self.counts.get(score, 0) + k
        self.counts = {score: k for score, k in self.counts.items() if k != 0}

    @property
    def is_zero(self) -> bool:
        return self.n == 0 and self.commented == 0 and not self.counts


@dataclass
class CounterDelta:
    """What a batch adds to a day's named counters (its funnel or its themes)."""

    counts: dict[str, int] = field(default_factory=dict)

    def empty(self) -> Self:
        return type(self)()

    def fixed(self) -> dict[str, str]:
        return {}

    def counters(self) -> list[tuple[str, int]]:
        return [(name, amount) for name, amount in sorted(self.counts.items()) if amount]

    def add(self, other: CounterDelta) -> None:
        for name, k in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + k
        self.counts = {name: k for name, k in self.counts.items() if k != 0}

    @property
    def is_zero(self) -> bool:
        return not any(self.counts.values())


@dataclass
class FunnelDelta(CounterDelta):
    """What a batch adds to one funnel day: invitations per stage (``invited``, ``delivered``...).

    Stored as ``f#<stage>``: the score's ``commented`` counts answers by their day, the funnel's
    ``f#commented`` invitations by theirs.
    """

    def counters(self) -> list[tuple[str, int]]:
        return [(FUNNEL_COUNTER + name, amount) for name, amount in super().counters()]


FUNNEL_COUNTER = "f#"


@dataclass
class DayDelta:
    """What a batch adds to one day item: its score, funnel and theme deltas, whichever it has."""

    score: Delta | None = None
    funnel: FunnelDelta | None = None
    themes: CounterDelta | None = None  # a ThemeDelta (domain/themes.py)

    def empty(self) -> DayDelta:
        return DayDelta()

    def parts(self) -> list[Delta | CounterDelta]:
        return [part for part in (self.score, self.funnel, self.themes) if part is not None and not part.is_zero]

    def fixed(self) -> dict[str, str]:
        return self.score.fixed() if self.score is not None else {}

    def counters(self) -> list[tuple[str, int]]:
        return [counter for part in self.parts() for counter in part.counters()]

    def add(self, other: AnyDelta) -> None:
        for part in other.parts() if isinstance(other, DayDelta) else [other]:
            slot = "score" if isinstance(part, Delta) else "funnel" if isinstance(part, FunnelDelta) else "themes"
            mine = getattr(self, slot)
            if mine is None:
                mine = part.empty()
                setattr(self, slot, mine)
            mine.add(part)  # type: ignore[arg-type]  # the slot is of the part's kind

    @property
    def is_zero(self) -> bool:
        return not self.parts()


AnyDelta: TypeAlias = "Delta | FunnelDelta | ThemeDelta | DayDelta"  # theme deltas: domain/themes.py


def keys_of(response: Response, dimensions: Iterable[str]) -> list[AggregateKey]:
    """The aggregates a response counts in: the overall one and one per dimension its context names."""
    return segment_keys(response.program_id, response.context, response.created_at.astimezone(UTC).date(), dimensions)


def segment_keys(
    program_id: str, context: Mapping[str, str], day: date, dimensions: Iterable[str]
) -> list[AggregateKey]:
    """The overall key and one per dimension the context names (values too long to group by left out)."""
    keys = [AggregateKey(program_id, OVERALL, OVERALL, day)]
    for dimension in dimensions:
        value = context.get(dimension)
        if isinstance(value, str) and value.strip() and len(value) <= MAX_VALUE_LENGTH:
            keys.append(AggregateKey(program_id, dimension, value, day))
    return keys


def _signed(response: Response, sign: int) -> Delta:
    return Delta(
        survey_type=response.survey_type,
        n=sign,
        counts={response.score: sign},
        commented=sign if response.comment else 0,
    )


def contributions(old: Response | None, new: Response | None, dimensions: Iterable[str]) -> dict[AggregateKey, Delta]:
    """What one change does to the aggregates: ``new - old``, cancelled-out keys left out."""
    dims = tuple(dimensions)
    parts: list[tuple[AggregateKey, Delta]] = []
    if old is not None:
        parts.extend((key, _signed(old, -1)) for key in keys_of(old, dims))
    if new is not None:
        parts.extend((key, _signed(new, +1)) for key in keys_of(new, dims))
    return coalesce([dict([part]) for part in parts])


def coalesce(many: Iterable[Mapping[AggregateKey, AnyDelta]]) -> dict[AggregateKey, AnyDelta]:
    """Sum the deltas per key (one write per key), dropping those that sum to nothing."""
    total: dict[AggregateKey, AnyDelta] = {}
    for deltas in many:
        for key, delta in deltas.items():
            into = total.setdefault(key, delta.empty())
            into.add(delta)  # type: ignore[arg-type]  # deltas of one kind per call (day_deltas mixes them)
    return {key: delta for key, delta in total.items() if not delta.is_zero}


def day_deltas(*many: Mapping[AggregateKey, AnyDelta]) -> dict[AggregateKey, DayDelta]:
    """Score, funnel and theme deltas summed per key into one day delta (one write), zeros left out."""
    total: dict[AggregateKey, DayDelta] = {}
    for deltas in many:
        for key, delta in deltas.items():
            total.setdefault(key, DayDelta()).add(delta)
    return {key: delta for key, delta in total.items() if not delta.is_zero}


@dataclass
class Chunk(Generic[T]):
    """Consecutive records whose coalesced updates are applied together (at most ``max_keys`` keys)."""

    records: list[T] = field(default_factory=list)
    parts: list[Mapping[AggregateKey, AnyDelta]] = field(default_factory=list)
    keys: set[AggregateKey] = field(default_factory=set)

    def updates(self) -> dict[AggregateKey, AnyDelta]:
        return coalesce(self.parts)


def chunks(planned: Sequence[tuple[T, Mapping[AggregateKey, AnyDelta]]], max_keys: int) -> list[Chunk[T]]:
    """Split records, in order, into the longest runs whose distinct keys number at most ``max_keys``.

    Greedy from the first record, so a batch redelivered from the same record splits the same way.
    """
    result: list[Chunk[T]] = []
    current: Chunk[T] = Chunk()
    for record, deltas in planned:
        if len(deltas) > max_keys:
            raise ValueError(f"one record touches {len(deltas)} aggregates, more than {max_keys}")
        if current.records and len(current.keys | deltas.keys()) > max_keys:
            result.append(current)
            current = Chunk()
        current.records.append(record)
        current.parts.append(deltas)
        current.keys |= deltas.keys()
    if current.records:
        result.append(current)
    return result


def chunk_of(planned: Sequence[tuple[T, Mapping[AggregateKey, AnyDelta]]]) -> Chunk[T]:
    """Exactly these records as one chunk (a chunk adopted from its journal entry keeps its extent)."""
    chunk: Chunk[T] = Chunk()
    for record, deltas in planned:
        chunk.records.append(record)
        chunk.parts.append(deltas)
        chunk.keys |= deltas.keys()
    return chunk


@dataclass(frozen=True)
class DayAggregate:
    """One stored aggregate as read back."""

    dimension: str
    value: str
    day: date
    survey_type: SurveyType
    n: int
    counts: dict[int, int]
    commented: int


# -- periods ---------------------------------------------------------------------------------------


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO weeks, Monday to Sunday
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    label: str  # "2026-11-20", "2026-W47", "2026-11"
    start: date  # the calendar period's first day
    end: date  # its last day


def period_of(day: date, kind: PeriodKind) -> Period:
    if kind is PeriodKind.DAY:
        return Period(day.isoformat(), day, day)
    if kind is PeriodKind.WEEK:
        year, week, weekday = day.isocalendar()
        start = day - timedelta(days=weekday - 1)
        return Period(f"{year}-W{week:02d}", start, start + timedelta(days=6))
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return Period(f"{day.year}-{day.month:02d}", start, following - timedelta(days=1))


def periods_between(first: date, last: date, kind: PeriodKind) -> list[Period]:
    """The calendar periods that overlap ``first..last`` (whole periods; callers clip the ends)."""
    periods: list[Period] = []
    day = first
    while day <= last:
        period = period_of(day, kind)
        periods.append(period)
        day = period.end + timedelta(days=1)
    return periods


def previous_period(period: Period, kind: PeriodKind) -> Period:
    return period_of(period.start - timedelta(days=1), kind)


def sum_counts(aggregates: Iterable[DayAggregate]) -> tuple[int, dict[int, int], int]:
    """Responses, count per score value and commented, summed over days."""
    n, commented, counts = 0, 0, {}
    for aggregate in aggregates:
        n += aggregate.n
        commented += aggregate.commented
        for score, k in aggregate.counts.items():
            counts[score] = counts.get(score, 0) + k
    return n, counts, commented
