"""Small, reversible patches to moto that make it behave like AWS for a multi-threaded app.

1. **One request at a time.** In AWS a DynamoDB conditional write is atomic per request: of two
   concurrent ``PutItem(ConditionExpression="attribute_not_exists(pk)")`` calls exactly one
   succeeds. moto evaluates the condition and stores the item in plain Python with no lock, so two
   threads (the HTTP server's, concurrent async invocations) can both pass the condition. We wrap
   ``BotocoreStubber.process_request`` - the single entry point of every mocked request - in a
   re-entrant lock, so each request is processed atomically, as the real service guarantees.
2. **Stream record times from the injected clock.** ``StreamShard.add`` stamps each new stream
   record with the clock the stack runs on (moto uses the wall clock), so
   ``ApproximateCreationDateTime`` is consistent with the times the app sees.
3. **EventBridge delivery to our functions.** moto cannot invoke Lambda targets. We wrap
   ``EventsBackend.put_events`` so that every accepted entry (from ``stack.put_events`` *or* from
   application code calling ``events.put_events``) is handed to a listener, which routes it to the
   template's rules. The wrapper also rejects a ``Detail`` that is JSON but not an object, as
   EventBridge does (moto only warns).

:mod:`.moto_limits` makes moto refuse what AWS refuses for size (PutEvents entries, SQS and SNS
messages, DynamoDB items). Performance patches, same semantics: :mod:`.moto_transactions` keeps TransactWriteItems from
copying whole tables, :mod:`.moto_query` keeps Query from sorting the whole table,
:mod:`.moto_serialize` serialises DynamoDB AttributeValues in one pass.
``install`` applies all of them and returns an ``uninstall`` callable; only one stack may hold them.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from datetime import UTC
from typing import Any

from moto.core.botocore_stubber import BotocoreStubber
from moto.dynamodb.models.table import StreamShard
from moto.events.models import EventsBackend

from . import moto_limits, moto_query, moto_serialize, moto_transactions
from .clock import Clock

__all__ = ["AcceptedEvent", "EventsListener", "install"]

_install_lock = threading.Lock()
_installed = False


class AcceptedEvent(dict[str, Any]):
    """A PutEvents entry that EventBridge accepted, with the ``EventId`` it was given."""


EventsListener = Callable[[str, str, list[AcceptedEvent]], None]
"""Called as ``listener(account_id, region, accepted_entries)`` after each PutEvents."""


MAX_ENTRIES = 10
MALFORMED_DETAIL = {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}


def install(clock: Clock, events_listener: EventsListener) -> Callable[[], None]:
    """Apply the patches; the returned function undoes them."""
    global _installed  # noqa: PLW0603
    with _install_lock:
        if _installed:
            raise RuntimeError("another LocalStack is running in this process: stop it first")
        _installed = True
    request_lock = threading.RLock()
    originals = {
        "process_request": BotocoreStubber.process_request,
        "add": StreamShard.add,
        "put_events": EventsBackend.put_events,
    }
    BotocoreStubber.process_request = _serialised(originals["process_request"], request_lock)  # type: ignore[method-assign]
    StreamShard.add = _clocked_stream_add(originals["add"], clock)  # type: ignore[method-assign]
    EventsBackend.put_events = _listened_put_events(originals["put_events"], events_listener)  # type: ignore[method-assign]
    moto_limits.install()  # wraps the listened put_events: a refused request reaches no rule
    moto_transactions.install()
    moto_query.install()
    moto_serialize.install()

    def uninstall() -> None:
        global _installed  # noqa: PLW0603
        moto_serialize.uninstall()
        moto_query.uninstall()
        moto_transactions.uninstall()
        moto_limits.uninstall()
        BotocoreStubber.process_request = originals["process_request"]  # type: ignore[method-assign]
        StreamShard.add = originals["add"]  # type: ignore[method-assign]
        EventsBackend.put_events = originals["put_events"]  # type: ignore[method-assign]
        with _install_lock:
            _installed = False

    return uninstall


def _serialised(process_request: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    @functools.wraps(process_request)
    def locked(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return process_request(self, request)

    return locked


def _clocked_stream_add(add: Callable[..., None], clock: Clock) -> Callable[..., None]:
    @functools.wraps(add)
    def clocked(self: StreamShard, old: Any, new: Any) -> None:
        add(self, old, new)
        if self.items:
            # moto serialises naive datetimes as UTC epoch seconds
            stamp = clock.now().astimezone(UTC).replace(tzinfo=None)
            self.items[-1].record["dynamodb"]["ApproximateCreationDateTime"] = stamp

    return clocked


def _listened_put_events(
    put_events: Callable[..., list[dict[str, Any]]], listener: EventsListener
) -> Callable[..., list[dict[str, Any]]]:
    @functools.wraps(put_events)
    def listened(self: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(events) > MAX_ENTRIES:
            return put_events(self, events)  # moto raises the ValidationException AWS raises
        valid_positions = [i for i, event in enumerate(events) if not _detail_is_non_object_json(event)]
        results_of_valid = iter(put_events(self, [events[i] for i in valid_positions]))
        results: list[dict[str, Any]] = []
        accepted: list[AcceptedEvent] = []
        for position, event in enumerate(events):
            if position not in valid_positions:
                results.append(dict(MALFORMED_DETAIL))
                continue
            result = next(results_of_valid)
            results.append(result)
            if "EventId" in result:
                accepted.append(AcceptedEvent(event, EventId=result["EventId"]))
        if accepted:
            listener(self.account_id, self.region_name, accepted)
        return results

    return listened


def _detail_is_non_object_json(event: dict[str, Any]) -> bool:
    detail = event.get("Detail")
    if not (event.get("Source") and event.get("DetailType") and detail):
        return False  # moto reports the missing argument itself
    try:
        return not isinstance(json.loads(detail), dict)
    except ValueError:
        return False  # moto reports invalid JSON itself
