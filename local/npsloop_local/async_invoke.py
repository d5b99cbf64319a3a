"""Lambda's asynchronous invocation (``InvocationType=Event``): queue, retries, destinations.

EventBridge rules, SNS subscriptions and schedules invoke functions asynchronously. As in Lambda,
a failed attempt is retried after about one minute, then after about two more (up to the function's
``EventInvokeConfig.MaximumRetryAttempts``, default 2); an event older than
``MaximumEventAgeInSeconds`` is dropped; the final outcome goes to ``DestinationConfig.OnFailure`` /
``OnSuccess`` as Lambda's invocation record. Delays are measured on the injected clock: nothing
happens until :meth:`AsyncInvoker.run_due` is called (by ``stack.drain()``). Due attempts run
concurrently on a thread pool, as Lambda runs concurrent invocations.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .clock import Clock
from .functions import Invocation, LambdaFunction

__all__ = ["RETRY_DELAYS", "AsyncInvoker", "iso_millis"]

log = logging.getLogger(__name__)

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=2))
"""Lambda waits about a minute before the first retry and two before the second."""


def iso_millis(instant: datetime) -> str:
    """``2019-11-14T18:16:05.568Z``, the timestamp format of Lambda's invocation records."""
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


@dataclass
class _Event:
    function: LambdaFunction
    payload: Any
    enqueued_at: datetime
    attempts: int = 0
    last: Invocation | None = None


@dataclass(order=True)
class _Due:
    due_at: datetime
    seq: int
    event: _Event = field(compare=False)


@dataclass
class AsyncInvoker:
    """The queue of asynchronous invocations, with Lambda's retry and destination semantics."""

    clock: Clock
    send_record: Callable[[str, dict[str, Any], bool], None]
    max_workers: int = 8
    _heap: list[_Due] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, function: LambdaFunction, payload: Any) -> None:
        """Queue an event for ``function``; it runs at the next ``run_due``."""
        now = self.clock.now()
        self._push(now, _Event(function, payload, enqueued_at=now))

    def _push(self, due_at: datetime, event: _Event) -> None:
        with self._lock:
            heapq.heappush(self._heap, _Due(due_at, next(self._seq), event))

    def next_due(self) -> datetime | None:
        with self._lock:
            return self._heap[0].due_at if self._heap else None

    def run_due(self) -> int:
        """Run every attempt that is due now (concurrently); return how many ran."""
        due = self._pop_due(self.clock.now())
        if not due:
            return 0
        if len(due) == 1:
            self._attempt(due[0])
        else:
            with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="lambda-async") as pool:
                list(pool.map(self._attempt, due))
        return len(due)

    def _pop_due(self, now: datetime) -> list[_Event]:
        with self._lock:
            due: list[_Event] = []
            while self._heap and self._heap[0].due_at <= now:
                due.append(heapq.heappop(self._heap).event)
            return due

    # ----- one attempt ------------------------------------------------------------------------

    def _attempt(self, event: _Event) -> None:
        config = event.function.async_config
        now = self.clock.now()
        if now - event.enqueued_at > timedelta(seconds=config.max_event_age_seconds):
            self._give_up(event, "EventAgeExceeded")
            return
        event.attempts += 1
        event.last = event.function.call(event.payload)
        if not event.last.failed:
            self._succeeded(event)
            return
        retries_done = event.attempts - 1
        if retries_done >= config.max_retries:
            self._give_up(event, "RetriesExhausted")
            return
        delay = RETRY_DELAYS[min(retries_done, len(RETRY_DELAYS) - 1)]
        log.info("%s: retry %d of %d in %s", event.function.logical_id, retries_done + 1, config.max_retries, delay)
        self._push(now + delay, event)

    def _succeeded(self, event: _Event) -> None:
        destination = event.function.async_config.on_success
        if destination:
            record = self._record(event, "Success")
            self.send_record(destination, record, True)

    def _give_up(self, event: _Event, condition: str) -> None:
        destination = event.function.async_config.on_failure
        log.warning("%s: async event discarded (%s)", event.function.logical_id, condition)
        if destination:
            self.send_record(destination, self._record(event, condition), False)

    def _record(self, event: _Event, condition: str) -> dict[str, Any]:
        """Lambda's asynchronous invocation record (what destinations receive)."""
        last = event.last
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": iso_millis(self.clock.now()),
            "requestContext": {
                "requestId": last.request_id if last else "",
                "functionArn": f"{event.function.arn}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": event.attempts,
            },
            "requestPayload": event.payload,
        }
        if last is None:
            return record
        record["responseContext"] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if last.failed:
            record["responseContext"]["functionError"] = "Unhandled"
            record["responsePayload"] = last.error_payload()
        else:
            record["responsePayload"] = last.result
        return record
