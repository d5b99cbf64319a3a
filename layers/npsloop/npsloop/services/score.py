"""Response changes from the table's stream folded into the score aggregates, exactly once.

The batch is split, in record order, into chunks whose coalesced updates fit one transaction
(``MAX_UPDATES_PER_CHUNK`` aggregates plus a journal entry named by the hash of the chunk's event
ids). Each chunk is one TransactWriteItems: all its records count, or none do.

Exactly once under redelivery: Lambda hands a function no shard id, so per-shard watermarks are
impossible, and a marker per record would cost a write per response. The journal entry costs one
item per chunk instead. A redelivered batch starts at the same record and splits the same way, so
an identical chunk finds its journal entry and writes nothing. When a chunk fails, its first record
is reported in ``batchItemFailures`` and no later chunk is tried: Lambda resumes from the lowest
reported sequence number, so everything before it is applied and nothing after it is.

The function must never fail as a whole after applying a chunk (Lambda would bisect the batch and
the halves would split differently): every error becomes a reported failure, and a chunk is only
started while enough of the invocation's time is left for it.

Poison records (unreadable, or an image that is not a valid response) are logged with ids only,
parked in the function's dead-letter queue with the reason, and count as processed, so one bad
record among 100 lets the other 99 through. Records of other entities are ignored (the event
source's filter criteria keep them out in the first place).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from npsloop.changes import Change, UnreadableRecord, parse_change, records_of
from npsloop.clock import Clock
from npsloop.domain.aggregates import AggregateKey, Delta, chunks, contributions
from npsloop.domain.programs import DEFAULT_DIMENSIONS, ProgramCatalogue
from npsloop.domain.responses import Response
from npsloop.domain.surveys import SCALES
from npsloop.observability import count, logger
from npsloop.ports import EventParking
from npsloop.ports.scoring import MAX_UPDATES_PER_CHUNK, AggregateWriter, ChunkOutcome

JOURNAL_TTL = timedelta(days=2)  # longer than the stream's 24-hour retention: every redelivery finds it
CHUNK_TIME_BUDGET_MS = 30_000  # one transaction with its client retries (3 x (3 s + 5 s)) ends inside this


@dataclass
class _Planned:
    """One record of the batch and what it does to the aggregates."""

    record: Mapping[str, Any]
    sequence_number: str | None
    event_id: str
    deltas: dict[AggregateKey, Delta] = field(default_factory=dict)
    poison: str | None = None  # why it can never be processed


@dataclass
class BatchOutcome:
    failures: list[str] = field(default_factory=list)  # sequence numbers Lambda must resume from
    applied_chunks: int = 0
    replayed_chunks: int = 0
    parked: int = 0
    unchanged: int = 0  # other entities, and changes that move no count (e.g. nothing scored changed)
    updates: int = 0

    def response(self) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in self.failures]}


def _journal_id(event_ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(event_ids).encode()).hexdigest()


def _response_of(image: dict[str, Any] | None) -> Response | None:
    return None if image is None else Response.model_validate(image)


class ScoreService:
    def __init__(
        self,
        *,
        programs: ProgramCatalogue,
        aggregates: AggregateWriter,
        parking: EventParking,
        clock: Clock,
        max_updates: int = MAX_UPDATES_PER_CHUNK,
    ) -> None:
        self._programs = programs
        self._aggregates = aggregates
        self._parking = parking
        self._clock = clock
        self._max_updates = max_updates

    def handle(self, event: Mapping[str, Any], time_left_ms: Callable[[], int] | None = None) -> BatchOutcome:
        planned = [self._plan(record) for record in records_of(event)]
        outcome = BatchOutcome(unchanged=sum(1 for p in planned if p.deltas == {} and p.poison is None))
        for chunk in chunks([(p, p.deltas) for p in planned], self._max_updates):
            first = chunk.records[0]
            if time_left_ms is not None and time_left_ms() < CHUNK_TIME_BUDGET_MS:
                logger.warning("out of time before a chunk", event_id=first.event_id)
                outcome.failures.append(self._resume_point(chunk.records))
                break
            try:
                self._apply(chunk.records, chunk.updates(), outcome)
            except Exception:
                logger.exception("chunk not applied; Lambda retries from its first record", event_id=first.event_id)
                count("ScoreChunksFailed")
                outcome.failures.append(self._resume_point(chunk.records))
                break
        return outcome

    @staticmethod
    def _resume_point(records: Sequence[_Planned]) -> str:
        # A record without a sequence number is unreadable (parked with the chunk): resume from the next
        # one. "" would have Lambda retry the whole batch (its rule for unknown identifiers): safe too.
        return next((r.sequence_number for r in records if r.sequence_number), "")

    def _apply(self, records: Sequence[_Planned], updates: dict[AggregateKey, Delta], outcome: BatchOutcome) -> None:
        # Park before writing: should the transaction fail, the redelivery parks them again
        # (a duplicate in the dead-letter queue) rather than losing them.
        for record in records:
            if record.poison is not None:
                raw = record.record
                self._parking.park(dict(raw) if isinstance(raw, Mapping) else {"record": repr(raw)}, record.poison)
                outcome.parked += 1
                count("ScoreRecordsParked")
        if not updates:
            return
        journal_id = _journal_id([record.event_id for record in records])
        result = self._aggregates.apply(journal_id, updates, self._clock.now() + JOURNAL_TTL)
        if result is ChunkOutcome.REPLAYED:
            logger.info("chunk applied before; skipped", journal_id=journal_id, records=len(records))
            outcome.replayed_chunks += 1
            count("ScoreChunksReplayed")
            return
        outcome.applied_chunks += 1
        outcome.updates += len(updates)

    def _plan(self, record: Mapping[str, Any]) -> _Planned:
        try:
            change = parse_change(record)
        except UnreadableRecord as exc:
            return self._poison(record, None, _event_id(record), f"unreadable stream record: {exc}")
        planned = _Planned(record, change.sequence_number, change.event_id)
        if change.entity != "response":
            return planned
        try:
            old, new = _response_of(change.old), _response_of(change.new)
        except ValidationError as exc:
            fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()}))
            return self._poison(record, change, change.event_id, f"not a valid response ({fields})")
        outside = [r for r in (old, new) if r is not None and r.score not in SCALES[r.survey_type]]
        if outside:
            return self._poison(record, change, change.event_id, f"score outside the {outside[0].survey_type} scale")
        planned.deltas = contributions(old, new, self._dimensions(new or old))
        return planned

    def _dimensions(self, response: Response | None) -> tuple[str, ...]:
        program = self._programs.get(response.program_id) if response is not None else None
        return program.dimensions if program is not None else DEFAULT_DIMENSIONS

    @staticmethod
    def _poison(record: Mapping[str, Any], change: Change | None, event_id: str, reason: str) -> _Planned:
        # Ids only: the reason names fields, never their values (a comment is personal data).
        logger.warning(
            "poison stream record",
            event_id=event_id,
            sequence_number=change.sequence_number if change else None,
            invitation_id=(change.keys.get("pk") if change else None),
            reason=reason,
        )
        sequence = change.sequence_number if change else _sequence_of(record)
        return _Planned(record, sequence, event_id, poison=reason)


def _event_id(record: Mapping[str, Any]) -> str:
    value = record.get("eventID") if isinstance(record, Mapping) else None
    return str(value or "")


def _sequence_of(record: Mapping[str, Any]) -> str | None:
    try:
        value = record["dynamodb"]["SequenceNumber"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    return str(value) if value else None
