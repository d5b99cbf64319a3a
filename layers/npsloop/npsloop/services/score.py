"""Response and invitation changes from the table's stream folded into the day aggregates, exactly once.

Responses move the score aggregates (domain/aggregates.py), the theme days of their comment analysis
(domain/themes.py) and, with invitations, the funnel days (domain/funnel.py): keyed counters of the
same day items, a key's three kinds summed into one write (``day_deltas``).

The batch is split, in record order, into chunks of at most ``MAX_UPDATES_PER_CHUNK`` aggregate
keys. A chunk is one journal entry and one conditional UpdateItem per key; no transaction, so an
answer costs about one write unit per key its batch touches, shared by the batch's answers.

Exactly once, per key, under at-least-once delivery:
- The journal entry is named by the chunk's anchor (its first record with a sequence number) and
  holds the chunk's extent. It is opened (put if absent) before any aggregate is written. Lambda
  only ever resumes a shard at a batch's first record or at a reported failure, and a failure is
  always reported at a chunk's anchor, so every redelivery meets the entry of each chunk an earlier
  delivery began, at the same record, and adopts its extent: the chunk is the same records again,
  however the new batch is cut. Should the batch hold fewer records than the entry, the chunk is
  reported failed untouched (Lambda retries from the anchor with a full batch).
- Each aggregate write adds the chunk's delta and a mark (``j<id>``, its value the time after which
  no record of the chunk can come back) in one UpdateItem, on condition the mark is absent. A write
  that failed, or whose reply was lost, is settled by the redelivery: the mark says whether it landed.
- When every key is written, the entry is closed: a redelivered chunk then writes nothing. Marks are
  dropped by later writes to the same item once their chunk is closed or expired, so an aggregate
  item keeps only a few marks and stays within one write unit.

When a chunk fails, its anchor is reported in ``batchItemFailures`` and no later chunk is tried.
The function must never fail as a whole (Lambda retries the whole batch; the event source does not
bisect, so chunks are met at the same anchors), and it writes a key only while enough time is left.

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
from npsloop.domain.aggregates import AggregateKey, Chunk, DayDelta, chunk_of, chunks, contributions, day_deltas
from npsloop.domain.funnel import FunnelInvitation, invitation_changes, response_changes
from npsloop.domain.programs import DEFAULT_DIMENSIONS, ProgramCatalogue
from npsloop.domain.responses import Response
from npsloop.domain.surveys import SCALES
from npsloop.domain.themes import theme_contributions
from npsloop.observability import count, logger
from npsloop.ports import EventParking
from npsloop.ports.scoring import MAX_UPDATES_PER_CHUNK, AggregateWriter

JOURNAL_TTL = timedelta(days=2)  # longer than the stream's 24-hour retention: every redelivery finds it
# The event source discards records older than MaximumRecordAgeInSeconds (6 h in the template), so
# after this no record of a chunk is delivered again and its marks can go (an hour's margin).
MARK_LIFETIME = timedelta(hours=7)
KEY_TIME_BUDGET_MS = 30_000  # one UpdateItem with its client retries (3 x (3 s + 5 s)) ends inside this


class ChunkNotInBatch(RuntimeError):
    """A journal entry spans records this batch does not hold: retry from the anchor."""


class OutOfTime(RuntimeError):
    """Too little of the invocation is left for another write."""


@dataclass
class _Planned:
    """One record of the batch and what it does to the aggregates."""

    record: Mapping[str, Any]
    sequence_number: str | None
    event_id: str
    deltas: dict[AggregateKey, DayDelta] = field(default_factory=dict)  # one per day item it moves
    poison: str | None = None  # why it can never be processed


@dataclass
class BatchOutcome:
    failures: list[str] = field(default_factory=list)  # sequence numbers Lambda must resume from
    applied_chunks: int = 0
    replayed_chunks: int = 0
    resumed_chunks: int = 0  # begun by an earlier delivery and finished by this one
    skipped_keys: int = 0  # keys an earlier delivery of the chunk had already written
    parked: int = 0
    unchanged: int = 0  # other entities, and changes that move no count (e.g. nothing scored changed)
    updates: int = 0

    def response(self) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in self.failures]}


def _journal_id(anchor_event_id: str) -> str:
    return hashlib.sha256(anchor_event_id.encode()).hexdigest()


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
        position = 0
        while position < len(planned):
            rest = [(p, p.deltas) for p in planned[position:]]
            chunk = chunks(rest, self._max_updates)[0]
            try:
                position += self._apply(chunk, rest, outcome, time_left_ms)
            except Exception as exc:
                if isinstance(exc, OutOfTime):
                    logger.warning("out of time in a chunk", event_id=chunk.records[0].event_id)
                else:
                    logger.exception("chunk not finished; Lambda retries from it", event_id=chunk.records[0].event_id)
                    count("ScoreChunksFailed")
                outcome.failures.append(self._resume_point(chunk.records))
                break
        return outcome

    @staticmethod
    def _resume_point(records: Sequence[_Planned]) -> str:
        # A record without a sequence number is unreadable (parked with the chunk): resume from the next
        # one. "" would have Lambda retry the whole batch (its rule for unknown identifiers): safe too.
        return next((r.sequence_number for r in records if r.sequence_number), "")

    def _apply(
        self,
        chunk: Chunk[_Planned],
        rest: Sequence[tuple[_Planned, dict]],
        outcome: BatchOutcome,
        time_left_ms: Callable[[], int] | None,
    ) -> int:
        """Apply the chunk that starts the rest of the batch; return how many records it spans."""
        self._check_time(time_left_ms)
        # Records before the anchor are unreadable ones (no sequence number): a retry starts after them.
        at = next((i for i, r in enumerate(chunk.records) if r.sequence_number), None)
        if at is None or not chunk.updates():
            self._park(chunk.records, outcome)
            return len(chunk.records)
        journal_id = _journal_id(chunk.records[at].event_id)
        now = self._clock.now()
        journal = self._aggregates.open_chunk(
            journal_id, len(chunk.records) - at, chunk.records[-1].event_id, now + JOURNAL_TTL
        )
        if not journal.created:
            extent = at + journal.records
            if extent > len(rest) or rest[extent - 1][0].event_id != journal.last_event_id:
                raise ChunkNotInBatch(f"journal {journal_id} spans {extent} records this batch does not hold")
            if journal.done:
                logger.info("chunk applied before; skipped", journal_id=journal_id, records=extent)
                outcome.replayed_chunks += 1
                count("ScoreChunksReplayed")
                return extent
            chunk = chunk_of(rest[:extent])
        # Park before writing: should a write fail, the redelivery parks them again (a duplicate in
        # the dead-letter queue) rather than losing them.
        self._park(chunk.records, outcome)
        expires = now + MARK_LIFETIME
        updates = sorted(chunk.updates().items())
        created = self._aggregates.create_all(journal_id, updates, expires, now)  # history: new days' keys
        outcome.updates += len(created)
        for key, delta in updates:
            if key in created:
                continue
            self._check_time(time_left_ms)
            if self._aggregates.add(journal_id, key, delta, expires, now):
                outcome.updates += 1
            else:
                outcome.skipped_keys += 1
        self._aggregates.close_chunk(journal_id)
        if journal.created:
            outcome.applied_chunks += 1
        else:
            logger.info("chunk begun before; finished", journal_id=journal_id, records=len(chunk.records))
            outcome.resumed_chunks += 1
            count("ScoreChunksResumed")
        return len(chunk.records)

    @staticmethod
    def _check_time(time_left_ms: Callable[[], int] | None) -> None:
        if time_left_ms is not None and time_left_ms() < KEY_TIME_BUDGET_MS:
            raise OutOfTime

    def _park(self, records: Sequence[_Planned], outcome: BatchOutcome) -> None:
        for record in records:
            if record.poison is not None:
                raw = record.record
                self._parking.park(dict(raw) if isinstance(raw, Mapping) else {"record": repr(raw)}, record.poison)
                outcome.parked += 1
                count("ScoreRecordsParked")

    def _plan(self, record: Mapping[str, Any]) -> _Planned:
        try:
            change = parse_change(record)
        except UnreadableRecord as exc:
            return self._poison(record, None, _event_id(record), f"unreadable stream record: {exc}")
        planned = _Planned(record, change.sequence_number, change.event_id)
        if change.entity == "invitation":
            return self._plan_invitation(planned, change)
        if change.entity != "response":
            return planned
        try:
            old, new = _response_of(change.old), _response_of(change.new)
        except ValidationError as exc:
            return self._poison(record, change, change.event_id, f"not a valid response ({_fields(exc)})")
        outside = [r for r in (old, new) if r is not None and r.score not in SCALES[r.survey_type]]
        if outside:
            return self._poison(record, change, change.event_id, f"score outside the {outside[0].survey_type} scale")
        dimensions = self._dimensions((new or old).program_id)  # type: ignore[union-attr]
        planned.deltas = day_deltas(
            contributions(old, new, dimensions),
            response_changes(old, new, dimensions),
            theme_contributions(old, new, dimensions),  # the comment analysis (domain/themes.py)
        )
        return planned

    def _plan_invitation(self, planned: _Planned, change: Change) -> _Planned:
        """An invitation change moves its funnel day's stages (domain/funnel.py)."""
        try:
            old, new = (None if i is None else FunnelInvitation.model_validate(i) for i in (change.old, change.new))
        except ValidationError as exc:
            return self._poison(planned.record, change, change.event_id, f"not a valid invitation ({_fields(exc)})")
        image = new or old
        planned.deltas = day_deltas(invitation_changes(old, new, self._dimensions(image.program_id if image else None)))
        return planned

    def _dimensions(self, program_id: str | None) -> tuple[str, ...]:
        program = self._programs.get(program_id) if program_id is not None else None
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


def _fields(exc: ValidationError) -> str:
    return ", ".join(sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()}))


def _event_id(record: Mapping[str, Any]) -> str:
    value = record.get("eventID") if isinstance(record, Mapping) else None
    return str(value or "")


def _sequence_of(record: Mapping[str, Any]) -> str | None:
    try:
        value = record["dynamodb"]["SequenceNumber"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    return str(value) if value else None
