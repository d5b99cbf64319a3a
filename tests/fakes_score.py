"""Fakes and builders for the scoring tests: an in-memory aggregate store and Lambda stream records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from npsloop.domain.aggregates import AggregateKey, DayAggregate, Delta
from npsloop.domain.responses import Response
from npsloop.ports.scoring import AggregateReader, AggregateWriter, ChunkOutcome
from tests.stream_records import lambda_record, marshal


class ChunkRefused(Exception):
    """The fake's stand-in for a throttled or failed transaction."""


@dataclass
class _Counts:
    survey_type: str
    n: int = 0
    counts: dict[int, int] = field(default_factory=dict)
    commented: int = 0


class InMemoryAggregates(AggregateWriter, AggregateReader):
    """Applies chunks all-or-nothing with a journal, like the DynamoDB adapter; counts every call."""

    def __init__(self) -> None:
        self.items: dict[AggregateKey, _Counts] = {}
        self.journal: set[str] = set()
        self.apply_calls: list[dict[AggregateKey, Delta]] = []
        self.fail_calls: set[int] = set()  # 1-based numbers of apply() calls that fail
        self.queries = 0
        self.items_read = 0

    def apply(self, journal_id: str, updates: Mapping[AggregateKey, Delta], expires_at: datetime) -> ChunkOutcome:
        self.apply_calls.append(dict(updates))
        if len(self.apply_calls) in self.fail_calls:
            raise ChunkRefused(f"apply call {len(self.apply_calls)}")
        if journal_id in self.journal:
            return ChunkOutcome.REPLAYED
        self.journal.add(journal_id)
        for key, delta in updates.items():
            item = self.items.setdefault(key, _Counts(delta.survey_type.value))
            item.n += delta.n
            item.commented += delta.commented
            for score, k in delta.counts.items():
                item.counts[score] = item.counts.get(score, 0) + k
        return ChunkOutcome.APPLIED

    def read(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[DayAggregate]:
        self.queries += 1
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
