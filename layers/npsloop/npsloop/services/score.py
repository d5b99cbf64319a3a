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

Tumbling windows (``TumblingWindowInSeconds`` on the event source, the template's default): an
invocation that carries a ``window`` folds its records' day deltas into the ``state`` it returns
(domain/score_window.py) and writes nothing; the window's final invocation writes the state's deltas,
a journal entry and a conditional marked UpdateItem per key as above, the entries named by the shard
and the state's first record, so a retried final invocation (Lambda retries it with the same state)
finds them. Then it moves the shard's checkpoint to the state's last record: a record Lambda should
deliver again later is recognised and skipped. A state grown past ``FLUSH_BYTES`` (an import of
history) is written at the start of the next invocation, from the state alone, so a retry writes the
same; a state a batch alone pushes past ``STATE_LIMIT_BYTES`` is written at once (a retry of that
invocation writes the same only if Lambda hands over the same batch, as it does on a retry: a
1,000-record batch of history adds about 40 KB when it spans 12 days, 200 KB when it spans a whole
year across 20 stores; a warning is logged should it ever happen).

Poison records (unreadable, or an image that is not a valid response) are logged with ids only,
parked in the function's dead-letter queue with the reason, and count as processed, so one bad
record among 100 lets the other 99 through. Records of other entities are ignored (the event
source's filter criteria keep them out in the first place).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from npsloop.changes import Change, UnreadableRecord, parse_change, records_of
from npsloop.clock import Clock
from npsloop.domain.aggregates import AggregateKey, Chunk, DayDelta, chunk_of, chunks, contributions, day_deltas
from npsloop.domain.funnel import FunnelInvitation, invitation_changes, response_changes
from npsloop.domain.programs import DEFAULT_DIMENSIONS, ProgramCatalogue
from npsloop.domain.responses import Response
from npsloop.domain.score_window import WindowState
from npsloop.domain.surveys import SCALES
from npsloop.domain.themes import theme_contributions
from npsloop.observability import count, logger
from npsloop.ports import EventParking
from npsloop.ports.scoring import MAX_UPDATES_PER_CHUNK, AggregateWriter

JOURNAL_TTL = timedelta(days=2)  # longer than the stream's 24-hour retention: every redelivery finds it
# The event source discards records older than MaximumRecordAgeInSeconds (6 h in the template), so
# after this no record of a chunk is delivered again and its marks can go (an hour's margin).
MARK_LIFETIME = timedelta(hours=7)
CHECKPOINT_TTL = JOURNAL_TTL  # a shard's checkpoint, kept as long as its records can come back
FLUSH_BYTES = 400_000  # a window's state this large is written before the next batch is folded in
STATE_LIMIT_BYTES = 900_000  # Lambda's limit is 1 MB per shard: a state past this is written at once
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
    counted_before: int = 0  # records a window's state or the shard's checkpoint already holds
    state: dict[str, Any] | None = None  # the window's state to hand back (None: no tumbling window)
    state_bytes: int = 0  # the window's state once this batch is folded in

    def response(self) -> dict[str, Any]:
        reply: dict[str, Any] = {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in self.failures]}
        if self.state is not None:
            reply["state"] = self.state  # Lambda takes a reply without it as a failed invocation
        return reply


class TumblingWindow(BaseModel):
    start: str
    end: str


class WindowEnvelope(BaseModel):
    """What Lambda adds to a stream event when the event source has a tumbling window."""

    model_config = ConfigDict(extra="ignore")

    window: TumblingWindow
    state: dict[str, Any] | None = None
    shard_id: str = Field(alias="shardId", min_length=1)
    final: bool = Field(default=False, alias="isFinalInvokeForWindow")
    terminated_early: bool = Field(default=False, alias="isWindowTerminatedEarly")


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
        if "window" in event:
            return self._handle_window(WindowEnvelope.model_validate(event), event, time_left_ms)
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

    def _handle_window(
        self, envelope: WindowEnvelope, event: Mapping[str, Any], time_left_ms: Callable[[], int] | None
    ) -> BatchOutcome:
        """Fold the batch into the window's state; write the state at the window's end (or when it grows large).

        Nothing is reported failed: a failure raises, and Lambda retries the invocation with the same state.
        """
        outcome = BatchOutcome()
        shard = envelope.shard_id
        state = WindowState.load(envelope.state)
        if not envelope.state:  # a new window (or one ended early): where the shard's aggregates stand
            state.checkpoint = self._aggregates.checkpoint(shard) or ""
        elif state.pending and (carried := state.size()) > FLUSH_BYTES:
            logger.info("window state written early", shard_id=shard, state_bytes=carried)
            state = self._write_window(shard, state, outcome, time_left_ms)
        for planned in map(self._plan, records_of(event)):
            if planned.sequence_number and state.counted(planned.sequence_number):
                outcome.counted_before += 1
                continue
            if planned.poison is not None:
                self._park([planned], outcome)
            elif not planned.deltas:
                outcome.unchanged += 1
            state.fold(planned.sequence_number, planned.deltas)
        ending = envelope.final or envelope.terminated_early
        outcome.state_bytes = state.size()
        if ending or outcome.state_bytes > STATE_LIMIT_BYTES:
            if not ending:
                logger.warning(
                    "window state near Lambda's limit: written at once", shard_id=shard, state_bytes=outcome.state_bytes
                )
            state = self._write_window(shard, state, outcome, time_left_ms)
        # The final invocation's state is dropped by Lambda; a window ended early goes on with a fresh one.
        outcome.state = {} if ending else state.dump()
        return outcome

    def _write_window(
        self, shard: str, state: WindowState, outcome: BatchOutcome, time_left_ms: Callable[[], int] | None
    ) -> WindowState:
        """Write the state's deltas, a chunk of keys per journal entry, then move the shard's checkpoint."""
        now = self._clock.now()
        updates = state.updates()
        for n in range(0, len(updates), self._max_updates):
            group = updates[n : n + self._max_updates]
            self._check_time(time_left_ms)
            journal_id = _journal_id(f"{shard}#{state.first}#{n // self._max_updates}")
            journal = self._aggregates.open_chunk(journal_id, len(group), state.last, now + JOURNAL_TTL)
            if journal.done:
                outcome.replayed_chunks += 1
                count("ScoreChunksReplayed")
                continue
            self._write_keys(journal_id, group, outcome, time_left_ms, now)
            self._aggregates.close_chunk(journal_id)
            outcome.applied_chunks += journal.created
            outcome.resumed_chunks += not journal.created
        if state.last:
            self._aggregates.advance_checkpoint(shard, state.last, now + CHECKPOINT_TTL)
        return state.written()

    def _write_keys(
        self,
        journal_id: str,
        updates: Sequence[tuple[AggregateKey, DayDelta]],
        outcome: BatchOutcome,
        time_left_ms: Callable[[], int] | None,
        now: datetime,
    ) -> None:
        """Each key's delta with the chunk's mark: new days' keys in one go, the others one by one."""
        expires = now + MARK_LIFETIME
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
        self._write_keys(journal_id, sorted(chunk.updates().items()), outcome, time_left_ms, now)
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
