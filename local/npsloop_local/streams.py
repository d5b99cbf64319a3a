"""DynamoDB stream event sources: poll moto's stream, invoke the function as Lambda's poller does.

For each ``Type: DynamoDB`` event of a function this keeps a checkpoint per shard, reads new
records through the ``dynamodbstreams`` API (``get_shard_iterator`` / ``get_records``), converts
them to the record shape Lambda delivers (``eventVersion`` 1.1, epoch-seconds
``ApproximateCreationDateTime``, our region, ``eventSourceARN``), drops records that match none of
``FilterCriteria.Filters`` (matched with moto's ``EventPattern``), and invokes the function
synchronously with batches of at most ``BatchSize`` records.

Failures follow Lambda's rules: with ``ReportBatchItemFailures`` processing resumes from the lowest
reported sequence number; an error with ``BisectBatchOnFunctionError`` splits the batch in two
(splitting does not use up retries); after ``MaximumRetryAttempts`` retries, or once a record is
older than ``MaximumRecordAgeInSeconds``, the batch is discarded and its description
(``DDBStreamBatchInfo``) goes to ``DestinationConfig.OnFailure``. Lambda's default of infinite
retries would block the shard for a day: locally it is capped at ``INFINITE_RETRY_CAP``.
Retries happen at once (Lambda's short backoff is not simulated). By default every record available
at a drain is batched at once, as if ``MaximumBatchingWindowInSeconds`` had passed, so tests need
not move the clock; a stack started with ``batching_windows=True`` (the demo) makes a consumer wait,
by the clock, until its oldest waiting record is as old as the window or a full batch is waiting,
as Lambda's poller does - fewer, fuller batches. ``ParallelizationFactor`` (concurrent batches per
shard, in key order) is not simulated: batches run one after another, which is one of the orders
Lambda may produce.

``TumblingWindowInSeconds`` (Lambda's stateful stream processing): each record belongs to the window
of its ``ApproximateCreationDateTime`` (windows aligned on multiples of the length). A batch never
spans two windows; each invocation carries the window, the ``state`` the previous one returned, the
``shardId`` and ``isFinalInvokeForWindow``; once the window has ended (by the clock with
``batching_windows``, at the end of each drain without), a final invocation hands over the last state
with no records. A reply without a ``state`` object, one that reports batch item failures, or a
state over 1 MB (Lambda's limit per shard) fails the invocation: it is retried with the state from
before it, as Lambda does. (Lambda ends a window early when its state outgrows the limit; here that
is a failure, stricter.) A final invocation that keeps failing discards the window's records to
``OnFailure`` after the retries.

Several functions may consume one stream (the app's score, alert and export functions do): each
event source mapping is its own ``StreamConsumer`` with its own checkpoints, filters, batch size
and failure handling, as each is its own poller in Lambda. With ``peek`` (:mod:`.moto_peek`) a
consumer looks for records only when a shard's last sequence number is past its checkpoint, so an
idle drain costs nothing; with ``read`` it takes the new records from moto's shard directly (the
poller is the Lambda service's code, not the app's), converted exactly as records read through
``GetRecords`` are. Without them it reads through the ``dynamodbstreams`` API.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from moto.events.models import EventPattern

from .async_invoke import iso_millis
from .clock import Clock
from .eventbridge import iso_seconds
from .functions import Invocation, LambdaFunction
from .template import truthy

__all__ = ["INFINITE_RETRY_CAP", "StreamConsumer", "StreamSettings", "lambda_stream_record", "moto_stream_record"]

log = logging.getLogger(__name__)

INFINITE_RETRY_CAP = 10
STREAM_RETENTION = timedelta(hours=24)
MATCHES_KEPT = 10_000  # distinct cut records whose filter result a consumer remembers (then it starts afresh)


@dataclass(frozen=True)
class StreamSettings:
    """The event source mapping's properties, with Lambda's defaults."""

    batch_size: int = 100
    starting_position: str = "LATEST"
    filters: tuple[str, ...] = ()
    report_item_failures: bool = False
    max_retries: int = INFINITE_RETRY_CAP
    max_record_age_seconds: int | None = None
    bisect: bool = False
    on_failure: str | None = None
    enabled: bool = True
    batching_window_seconds: int = 0
    tumbling_window_seconds: int = 0

    @classmethod
    def from_properties(cls, props: dict[str, Any], *, batching_window: bool = False) -> StreamSettings:
        retries = int(props.get("MaximumRetryAttempts", -1))
        age = int(props.get("MaximumRecordAgeInSeconds", -1))
        filters = (props.get("FilterCriteria") or {}).get("Filters") or []
        return cls(
            batch_size=int(props.get("BatchSize", 100)),
            starting_position=str(props.get("StartingPosition", "LATEST")),
            filters=tuple(f["Pattern"] if isinstance(f["Pattern"], str) else json.dumps(f["Pattern"]) for f in filters),
            report_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
            max_retries=INFINITE_RETRY_CAP if retries < 0 else retries,
            max_record_age_seconds=None if age < 0 else age,
            bisect=truthy(props.get("BisectBatchOnFunctionError", False)),
            on_failure=((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"),
            enabled=truthy(props.get("Enabled", True)),
            batching_window_seconds=int(props.get("MaximumBatchingWindowInSeconds", 0)) if batching_window else 0,
            tumbling_window_seconds=int(props.get("TumblingWindowInSeconds", 0)),
        )


def lambda_stream_record(raw: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A record from ``get_records`` (as boto3 parses it) in the shape Lambda hands a function."""
    source = raw["dynamodb"]
    created = source["ApproximateCreationDateTime"]
    dynamodb: dict[str, Any] = {"ApproximateCreationDateTime": float(int(created.timestamp()))}
    for key in ("Keys", "NewImage", "OldImage"):
        if key in source:
            dynamodb[key] = _json_safe(source[key])
    dynamodb["SequenceNumber"] = source["SequenceNumber"]
    dynamodb["SizeBytes"] = source["SizeBytes"]
    dynamodb["StreamViewType"] = source["StreamViewType"]
    return {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


def moto_stream_record(
    raw: dict[str, Any], stream_arn: str, region: str, converted: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    """A record as moto's shard keeps it (wire-format attributes, a naive UTC time) in Lambda's shape.

    A shard's records never change, and every consumer of the stream reads each of them: the record is
    converted once and kept in ``converted`` (the stream's, shared by its consumers and dropped with the
    stack, as moto's shard keeps the raw records), read-only. A year of imported history is 55,000
    records that five consumers read in turn.
    """
    key = (str(raw["eventID"]), str(raw["dynamodb"]["SequenceNumber"]))
    found = converted.get(key)
    if found is None:
        found = converted[key] = _convert(raw, stream_arn, region)
    return found


def _convert(raw: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    source = raw["dynamodb"]
    created = source["ApproximateCreationDateTime"]
    if isinstance(created, datetime):
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
    else:
        created = datetime.fromtimestamp(float(created), UTC)
    parsed = {**raw, "dynamodb": {**source, "ApproximateCreationDateTime": created}}
    for key in ("Keys", "NewImage", "OldImage"):
        if key in source:
            parsed["dynamodb"][key] = _wire(source[key])
    return lambda_stream_record(parsed, stream_arn, region)


def _named_paths(pattern: Any) -> dict[str, Any]:
    """The field tree an event pattern names: {"dynamodb": {"NewImage": {"entity": {"S": {}}}}} (leaves empty)."""
    if not isinstance(pattern, dict) or any(key.startswith("$") for key in pattern):
        return {}  # a leaf, or an operator such as $or over fields: that level is kept whole
    return {key: _named_paths(value) for key, value in pattern.items()}


def _cut(record: Any, paths: dict[str, Any]) -> Any:
    """The record with only the fields ``paths`` names (a named leaf keeps its whole value)."""
    if not paths or not isinstance(record, dict):
        return record
    return {key: _cut(record[key], below) for key, below in paths.items() if key in record}


def _wire(value: Any) -> Any:
    """Attribute values as JSON: moto may still hold DynamoTypes, bytes or Decimals inside."""
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return _wire(to_json())
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _json_safe(value: Any) -> Any:
    """Binary attributes travel base64-encoded in Lambda events."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


@dataclass
class _Attempt:
    invocation: Invocation
    failed_from: int | None  # index of the first record to retry; None means the batch succeeded

    @property
    def function_error(self) -> bool:
        return self.invocation.failed


@dataclass
class _Batch:
    records: list[dict[str, Any]]
    retries: int = 0
    invocations: int = 0
    last: Invocation | None = None


@dataclass
class _Window:
    """A shard's open tumbling window: its bounds, the state the function returned, the records it took."""

    start: datetime
    end: datetime
    state: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)


STATE_LIMIT_BYTES = 1024 * 1024  # Lambda keeps at most 1 MB of a tumbling window's state per shard


@dataclass
class StreamConsumer:
    """One DynamoDB event source mapping."""

    function: LambdaFunction
    stream_arn: str
    settings: StreamSettings
    streams_client: Any
    clock: Clock
    region: str
    send_record: Callable[[str, dict[str, Any]], None]
    peek: Callable[[], dict[str, str | None] | None] | None = None
    """Shard id -> last sequence number, read cheaply (:mod:`.moto_peek`); None: poll through the API."""
    read: Callable[[str, str | None], list[dict[str, Any]] | None] | None = None
    """(shard id, checkpoint) -> moto's records after it (:mod:`.moto_peek`); None: read through the API."""
    converted: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """Records ``read`` returned, in Lambda's shape: one dict per stream, shared by its consumers."""
    _checkpoints: dict[str, str | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _matchers: list[tuple[EventPattern, dict[str, Any]]] = field(default_factory=list)
    _matched: dict[tuple[int, str], bool] = field(default_factory=dict)  # (pattern, cut record) -> match
    _windows: dict[str, _Window] = field(default_factory=dict)  # shard id -> its open tumbling window

    def __post_init__(self) -> None:
        self._matchers = [
            (EventPattern.load(pattern), _named_paths(json.loads(pattern))) for pattern in self.settings.filters
        ]

    def start(self) -> None:
        """Place the checkpoints: before everything (TRIM_HORIZON) or after what exists (LATEST)."""
        with self._lock:
            for shard_id in self._shard_ids():
                self._checkpoints[shard_id] = None
                if self.settings.starting_position == "LATEST":
                    existing = self._read(shard_id)
                    if existing:
                        self._checkpoints[shard_id] = existing[-1]["dynamodb"]["SequenceNumber"]

    def poll(self) -> int:
        """Process every new record; return the number of invocations made."""
        if not self.settings.enabled:
            return 0
        with self._lock:
            invocations = 0
            tails = self.peek() if self.peek is not None else None
            for shard_id in self._shard_ids() if tails is None else list(tails):
                self._checkpoints.setdefault(shard_id, None)
                if tails is not None and tails[shard_id] in {None, self._checkpoints[shard_id]}:
                    invocations += self._end_window_if_due(shard_id)
                    continue  # nothing after our checkpoint: no API calls
                records = self._new_records(shard_id)
                wanted = [record for record in records if self._passes_filters(record)]
                if records and not self._gathering(wanted):
                    invocations += self._deliver(shard_id, wanted, self._polled_at(wanted))
                    self._checkpoints[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
                # (while gathering, the poller waits for its window: the checkpoint stays)
                invocations += self._end_window_if_due(shard_id)
            return invocations

    def rename_shard(self, old: str, new: str) -> None:
        """The shard ``old`` is now called ``new`` (a forked copy of the stack gives itself its own)."""
        with self._lock:
            if old in self._checkpoints:
                self._checkpoints[new] = self._checkpoints.pop(old)
            if old in self._windows:
                self._windows[new] = self._windows.pop(old)

    # ----- reading ----------------------------------------------------------------------------

    def _shard_ids(self) -> list[str]:
        description = self.streams_client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        return [shard["ShardId"] for shard in description["Shards"]]

    def _new_records(self, shard_id: str) -> list[dict[str, Any]]:
        direct = self.read(shard_id, self._checkpoints.get(shard_id)) if self.read is not None else None
        if direct is not None:
            return [moto_stream_record(r, self.stream_arn, self.region, self.converted) for r in direct]
        return [lambda_stream_record(r, self.stream_arn, self.region) for r in self._read(shard_id)]

    def _read(self, shard_id: str) -> list[dict[str, Any]]:
        checkpoint = self._checkpoints.get(shard_id)
        request: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard_id}
        if checkpoint is None:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=checkpoint)
        iterator = self.streams_client.get_shard_iterator(**request)["ShardIterator"]
        records: list[dict[str, Any]] = []
        while iterator:
            page = self.streams_client.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator")
        return records

    def _gathering(self, wanted: list[dict[str, Any]]) -> bool:
        window_end = self._window_end(wanted)
        return window_end is not None and len(wanted) < self.settings.batch_size and self.clock.now() < window_end

    def _window_end(self, wanted: list[dict[str, Any]]) -> datetime | None:
        """When the batching window that the oldest waiting record opened ends (None: no window).

        With a tumbling window too, no later than the end of the oldest record's tumbling window.
        """
        window = self.settings.batching_window_seconds
        if not window or not wanted:
            return None
        end = _created(wanted[0]) + timedelta(seconds=window)
        if self.settings.tumbling_window_seconds:
            end = min(end, self._tumbling(wanted[0])[1])
        return end

    def _tumbling(self, record: dict[str, Any]) -> tuple[datetime, datetime]:
        """The tumbling window a record belongs to, by its creation time."""
        length = self.settings.tumbling_window_seconds
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        start = datetime.fromtimestamp(int(created // length) * length, UTC)
        return start, start + timedelta(seconds=length)

    def _passes_filters(self, record: dict[str, Any]) -> bool:
        # A pattern decides on the fields it names only, so moto matches the record cut down to them:
        # the same answer, without flattening every attribute of both images once per filter. Cut
        # records repeat (an entity name, an event name), so each distinct one is matched once.
        return not self._matchers or any(
            self._matches(n, _cut(record, paths)) for n, (_, paths) in enumerate(self._matchers)
        )

    def _matches(self, n: int, cut: Any) -> bool:
        key = (n, json.dumps(cut, sort_keys=True, separators=(",", ":")))
        found = self._matched.get(key)
        if found is None:
            if len(self._matched) >= MATCHES_KEPT:
                self._matched.clear()
            found = self._matched[key] = self._matchers[n][0].matches_event(cut)
        return found

    # ----- delivering ---------------------------------------------------------------------------

    def _polled_at(self, wanted: list[dict[str, Any]]) -> datetime:
        """When Lambda's poller would have taken these records: at once, or when the window ended.

        A drain can come long after a window ended (the demo's clock jumps hours); the records' age
        is what it was then, so a waiting batch is not discarded as too old for having waited.
        """
        now = self.clock.now()
        window_end = self._window_end(wanted)
        return now if window_end is None else min(now, window_end)

    def _deliver(self, shard_id: str, records: list[dict[str, Any]], polled_at: datetime) -> int:
        if not self.settings.tumbling_window_seconds:
            return self._deliver_batches(shard_id, records, polled_at, None)
        invocations = 0
        groups: dict[tuple[datetime, datetime], list[dict[str, Any]]] = {}
        for record in records:  # in stream order, so windows come in order
            groups.setdefault(self._tumbling(record), []).append(record)
        for (start, end), group in groups.items():
            open_window = self._windows.get(shard_id)
            if open_window is not None and open_window.start != start:
                invocations += self._end_window(shard_id)  # a later window's records: the earlier one has ended
            window = self._windows.setdefault(shard_id, _Window(start, end))
            invocations += self._deliver_batches(shard_id, group, polled_at, window)
        return invocations

    def _deliver_batches(
        self, shard_id: str, records: list[dict[str, Any]], polled_at: datetime, window: _Window | None
    ) -> int:
        size = self.settings.batch_size
        work = deque(_Batch(records[i : i + size]) for i in range(0, len(records), size))
        invocations = 0
        while work:
            batch = work.popleft()
            batch.records = self._drop_expired(shard_id, batch, polled_at)
            if not batch.records:
                continue
            attempt = self._invoke(batch, shard_id, window)
            invocations += 1
            if attempt.failed_from is None:
                continue
            remaining = batch.records[attempt.failed_from :]
            work.extendleft(reversed(self._after_failure(shard_id, batch, remaining, attempt)))
        return invocations

    def _end_window_if_due(self, shard_id: str) -> int:
        """The final invocation of the shard's open window, once it has ended (at once without batching windows)."""
        window = self._windows.get(shard_id)
        if window is None or (self.settings.batching_window_seconds and self.clock.now() < window.end):
            return 0
        return self._end_window(shard_id)

    def _end_window(self, shard_id: str) -> int:
        """The window's final invocation: its last state, no records; retried until it succeeds or retries run out."""
        window = self._windows.pop(shard_id)
        batch = _Batch([])
        while True:
            attempt = self._invoke(batch, shard_id, window, final=True)
            if attempt.failed_from is None:
                return batch.invocations
            if batch.retries >= self.settings.max_retries:
                self._discard(
                    shard_id,
                    _Batch(window.records, batch.retries, batch.invocations, batch.last),
                    "RetryAttemptsExhausted",
                )
                return batch.invocations
            batch.retries += 1

    def _after_failure(
        self, shard_id: str, batch: _Batch, remaining: list[dict[str, Any]], attempt: _Attempt
    ) -> list[_Batch]:
        """What to try next after a failed batch: halves, the remainder, or nothing (discarded)."""
        tumbling = self.settings.tumbling_window_seconds
        if self.settings.bisect and attempt.function_error and len(remaining) > 1 and not tumbling:
            half = len(remaining) // 2
            return [_Batch(remaining[:half], batch.retries), _Batch(remaining[half:], batch.retries)]
        if batch.retries >= self.settings.max_retries:
            self._discard(
                shard_id, _Batch(remaining, batch.retries, batch.invocations, batch.last), "RetryAttemptsExhausted"
            )
            return []
        return [_Batch(remaining, batch.retries + 1, batch.invocations, batch.last)]

    def _invoke(self, batch: _Batch, shard_id: str, window: _Window | None, *, final: bool = False) -> _Attempt:
        event: dict[str, Any] = {"Records": batch.records}
        if window is not None:
            event.update(
                window={"start": iso_seconds(window.start), "end": iso_seconds(window.end)},
                state=window.state,
                shardId=shard_id,
                eventSourceARN=self.stream_arn,
                isFinalInvokeForWindow=final,
                isWindowTerminatedEarly=False,
            )
        invocation = self.function.call(event)
        batch.invocations += 1
        batch.last = invocation
        if invocation.failed:
            return _Attempt(invocation, 0)
        if window is not None:
            return self._took_state(batch, window, invocation, final)
        return _Attempt(invocation, self._first_reported_failure(batch.records, invocation.result))

    def _took_state(self, batch: _Batch, window: _Window, invocation: Invocation, final: bool) -> _Attempt:
        """A windowed invocation succeeds only with a state object (of at most 1 MB) and no batch item failures."""
        result = invocation.result
        state = result.get("state") if isinstance(result, dict) else None
        problem = None
        if not isinstance(state, dict):
            problem = "its reply has no state object"
        elif result.get("batchItemFailures"):
            problem = "it reported batch item failures (with a tumbling window the whole batch is retried here)"
        elif len(json.dumps(state, separators=(",", ":")).encode()) > STATE_LIMIT_BYTES:
            problem = "its state is over Lambda's 1 MB per shard"
        if problem is not None:
            log.error("%s: a tumbling-window invocation failed: %s", self.function.logical_id, problem)
            return _Attempt(invocation, 0)
        if not final:
            window.state = state
            window.records.extend(batch.records)
        return _Attempt(invocation, None)

    def _first_reported_failure(self, records: list[dict[str, Any]], result: Any) -> int | None:
        if not self.settings.report_item_failures or not isinstance(result, dict):
            return None
        failures = result.get("batchItemFailures") or []
        if not failures:
            return None
        positions = {record["dynamodb"]["SequenceNumber"]: i for i, record in enumerate(records)}
        identifiers = [failure.get("itemIdentifier") if isinstance(failure, dict) else None for failure in failures]
        if any(identifier not in positions for identifier in identifiers):
            return 0  # an unknown or empty identifier fails the whole batch, as in Lambda
        return min(positions[identifier] for identifier in identifiers)

    def _drop_expired(self, shard_id: str, batch: _Batch, polled_at: datetime) -> list[dict[str, Any]]:
        max_age = self.settings.max_record_age_seconds
        limit = timedelta(seconds=max_age) if max_age is not None else STREAM_RETENTION
        fresh: list[dict[str, Any]] = []
        expired: list[dict[str, Any]] = []
        for record in batch.records:
            (expired if polled_at - _created(record) > limit else fresh).append(record)
        if expired:
            self._discard(shard_id, _Batch(expired, batch.retries, batch.invocations, batch.last), "RecordAgeExceeded")
        return fresh

    def _discard(self, shard_id: str, batch: _Batch, condition: str) -> None:
        log.warning(
            "%s: discarding %d stream record(s) from %s (%s)",
            self.function.logical_id,
            len(batch.records),
            batch.records[0]["dynamodb"]["SequenceNumber"],
            condition,
        )
        if self.settings.on_failure:
            self.send_record(self.settings.on_failure, self._failure_record(shard_id, batch, condition))

    def _failure_record(self, shard_id: str, batch: _Batch, condition: str) -> dict[str, Any]:
        """Lambda's on-failure record for a stream batch."""
        first, last = batch.records[0], batch.records[-1]
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if batch.last is not None and batch.last.failed:
            response_context["functionError"] = "Unhandled"
        return {
            "requestContext": {
                "requestId": batch.last.request_id if batch.last else "",
                "functionArn": self.function.arn,
                "condition": condition,
                "approximateInvokeCount": batch.invocations,
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": iso_millis(self.clock.now()),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": iso_seconds(_created(first)),
                "approximateArrivalOfLastRecord": iso_seconds(_created(last)),
                "batchSize": len(batch.records),
                "streamArn": self.stream_arn,
            },
        }


def _created(record: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(record["dynamodb"]["ApproximateCreationDateTime"], UTC)
