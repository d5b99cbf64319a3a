"""Fakes and builders for the scoring tests: an in-memory aggregate store and Lambda stream records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from npsloop.domain.aggregates import AggregateKey, AnyDelta, DayAggregate, DayDelta, Delta, FunnelDelta
from npsloop.domain.funnel import FunnelDay
from npsloop.domain.responses import Response, ResponseAnalysis
from npsloop.domain.themes import ThemeDay, ThemeDelta
from npsloop.ports.scoring import AggregateReader, AggregateWriter, ChunkJournal, FunnelReader, ThemeReader
from tests.stream_records import lambda_record, marshal


class ChunkRefused(Exception):
    """The fake's stand-in for a throttled or failed write."""


class Crash(BaseException):
    """The execution environment dies mid-invocation (the handler never returns)."""


@dataclass
class _Counts:
    survey_type: str
    n: int = 0
    counts: dict[int, int] = field(default_factory=dict)
    commented: int = 0


@dataclass
class _Journal:
    records: int
    last_event_id: str
    done: bool = False


@dataclass
class _FunnelCounts:
    counts: dict[str, int] = field(default_factory=dict)


class InMemoryAggregates(AggregateWriter, AggregateReader, FunnelReader, ThemeReader):
    """Journal entries and marked conditional adds, like the DynamoDB adapter; counts every call.

    A key is one day item, as in the table: a mark per item, whichever kinds of counters a write adds
    (``items`` holds its scores, ``funnel`` its funnel stages, ``theme_days`` its theme counters).

    ``fail_adds`` / ``crash_adds``: 1-based numbers of add() calls that fail before writing, or that
    write and then fail (the reply is lost) or crash the process; ``crash_at_close`` likewise.
    """

    def __init__(self) -> None:
        self.items: dict[AggregateKey, _Counts] = {}
        self.funnel: dict[AggregateKey, _FunnelCounts] = {}
        self.theme_days: dict[AggregateKey, _FunnelCounts] = {}
        self.marks: dict[AggregateKey, set[str]] = {}
        self.journal: dict[str, _Journal] = {}
        self.add_calls: list[tuple[str, AggregateKey, AnyDelta]] = []
        self.opened: list[str] = []
        self.fail_adds: set[int] = set()
        self.lost_replies: set[int] = set()
        self.crash_adds: set[int] = set()
        self.crash_at_close = False
        self.checkpoints: dict[str, str] = {}
        self.checkpoint_writes = 0
        self.queries = 0
        self.items_read = 0
        self.ranges: Counter[tuple[str, str, date, date]] = Counter()  # (program, dimension, first, last) read

    def open_chunk(self, journal_id: str, records: int, last_event_id: str, expires_at: datetime) -> ChunkJournal:
        self.opened.append(journal_id)
        found = self.journal.get(journal_id)
        if found is not None:
            return ChunkJournal(found.records, found.last_event_id, found.done, created=False)
        self.journal[journal_id] = _Journal(records, last_event_id)
        return ChunkJournal(records, last_event_id, False, created=True)

    def add(
        self, journal_id: str, key: AggregateKey, delta: AnyDelta, mark_expires_at: datetime, now: datetime
    ) -> bool:
        self.add_calls.append((journal_id, key, delta))
        number = len(self.add_calls)
        if number in self.fail_adds:
            raise ChunkRefused(f"add call {number}")
        marks = self.marks.setdefault(key, set())
        if journal_id in marks:
            return False
        marks.add(journal_id)
        for part in delta.parts() if isinstance(delta, DayDelta) else [delta]:
            self._apply(key, part)
        if number in self.crash_adds:
            raise Crash(f"after add call {number}")
        if number in self.lost_replies:
            raise ChunkRefused(f"reply to add call {number} lost")
        return True

    def _apply(self, key: AggregateKey, part: Delta | FunnelDelta | ThemeDelta) -> None:
        if isinstance(part, FunnelDelta | ThemeDelta):
            day = (self.funnel if isinstance(part, FunnelDelta) else self.theme_days).setdefault(key, _FunnelCounts())
            for stage, k in part.counts.items():
                day.counts[stage] = day.counts.get(stage, 0) + k
            return
        item = self.items.setdefault(key, _Counts(part.survey_type.value))
        item.n += part.n
        item.commented += part.commented
        for score, k in part.counts.items():
            item.counts[score] = item.counts.get(score, 0) + k

    def close_chunk(self, journal_id: str) -> None:
        self.journal[journal_id].done = True
        if self.crash_at_close:
            raise Crash("after closing")

    def checkpoint(self, shard_id: str) -> str | None:
        return self.checkpoints.get(shard_id)

    def advance_checkpoint(self, shard_id: str, sequence_number: str, expires_at: datetime) -> None:
        self.checkpoint_writes += 1
        current = self.checkpoints.get(shard_id)
        if current is None or int(current) < int(sequence_number):
            self.checkpoints[shard_id] = sequence_number

    def batches_written(self) -> list[dict[AggregateKey, AnyDelta]]:
        """The adds grouped per chunk, in order (a chunk written in two deliveries counts twice)."""
        grouped: list[tuple[str, dict[AggregateKey, AnyDelta]]] = []
        for journal_id, key, delta in self.add_calls:
            if not grouped or grouped[-1][0] != journal_id:
                grouped.append((journal_id, {}))
            grouped[-1][1][key] = delta
        return [updates for _, updates in grouped]

    def read(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[DayAggregate]:
        self.queries += 1
        self.ranges[program_id, dimension, first_day, last_day] += 1
        found = []
        for key, item in sorted(self.items.items()):
            if key.program_id == program_id and key.dimension == dimension and first_day <= key.day <= last_day:
                self.items_read += 1
                if value is None or key.value == value:
                    found.append(
                        DayAggregate(
                            dimension=key.dimension,
                            value=key.value,
                            day=key.day,
                            survey_type=item.survey_type,  # type: ignore[arg-type]
                            n=item.n,
                            counts={s: k for s, k in item.counts.items() if k},
                            commented=item.commented,
                        )
                    )
        return found

    def read_funnel(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[FunnelDay]:
        self.queries += 1
        return [
            FunnelDay(key.dimension, key.value, key.day, {s: k for s, k in day.counts.items() if k})
            for key, day in sorted(self.funnel.items())
            if key.program_id == program_id
            and key.dimension == dimension
            and first_day <= key.day <= last_day
            and (value is None or key.value == value)
        ]

    def read_themes(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[ThemeDay]:
        self.queries += 1
        return [
            ThemeDay(key.dimension, key.value, key.day, {s: k for s, k in day.counts.items() if k})
            for key, day in sorted(self.theme_days.items())
            if key.program_id == program_id
            and key.dimension == dimension
            and first_day <= key.day <= last_day
            and (value is None or key.value == value)
        ]

    def themes(self, dimension: str = "all", value: str = "all") -> dict[str, int]:
        """The theme counters of one segment, summed over days (zeros left out)."""
        total: dict[str, int] = {}
        for key, day in self.theme_days.items():
            if key.dimension == dimension and key.value == value:
                for name, k in day.counts.items():
                    total[name] = total.get(name, 0) + k
        return {s: k for s, k in total.items() if k}

    def stages(self, dimension: str = "all", value: str = "all") -> dict[str, int]:
        """The funnel's counters of one segment, summed over days (zeros left out)."""
        total: dict[str, int] = {}
        for key, day in self.funnel.items():
            if key.dimension == dimension and key.value == value:
                for stage, k in day.counts.items():
                    total[stage] = total.get(stage, 0) + k
        return {s: k for s, k in total.items() if k}

    def counts(self, dimension: str = "all", value: str = "all", day: date | None = None) -> tuple[int, dict[int, int]]:
        """Responses and counts per score of one aggregate (summed over days unless ``day``)."""
        n, counts = 0, {}
        for key, item in self.items.items():
            if key.dimension == dimension and key.value == value and (day is None or key.day == day):
                n += item.n
                for score, k in item.counts.items():
                    counts[score] = counts.get(score, 0) + k
        return n, {s: k for s, k in counts.items() if k}


def response(
    number: int,
    score: int,
    *,
    store: str = "S01",
    region: str = "north",
    channel: str = "web",
    comment: str | None = None,
    created_at: datetime = datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
    program_id: str = "post-purchase-nps",
    survey_type: str = "nps",
    version: int = 1,
    analysis: ResponseAnalysis | None = None,
) -> Response:
    return Response(
        invitation_id=f"inv-{number:05d}",
        program_id=program_id,
        program_version=1,
        survey_type=survey_type,
        customer_id=f"cust-{number:05d}",
        locale="en",
        context={"store": store, "region": region, "channel": channel},
        score=score,
        comment=comment,
        version=version,
        created_at=created_at,
        updated_at=created_at,
        analysis=analysis,
    )


def _plain(value: Response | Mapping[str, Any]) -> dict[str, Any]:
    document = value.model_dump(mode="json", exclude_none=True) if isinstance(value, Response) else dict(value)
    document.setdefault("entity", "response")
    document.setdefault("pk", f"INV#{document.get('invitation_id', 'x')}")
    document.setdefault("sk", "RESPONSE")
    return document


def image(value: Response | Mapping[str, Any]) -> dict[str, Any]:
    return marshal(_plain(value))


def record(
    kind: str,
    old: Response | Mapping[str, Any] | None = None,
    new: Response | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A DynamoDB stream record as Lambda delivers it, with a fresh event id and sequence number."""
    return lambda_record(kind, _plain(new) if new is not None else None, _plain(old) if old is not None else None)
