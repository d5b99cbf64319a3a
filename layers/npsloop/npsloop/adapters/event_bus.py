"""Amazon EventBridge: npsloop's own events (source ``npsloop``) on the stack's bus, for CRM integration."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from npsloop.ports.cases import BusEvent, EventBus, PublishFailed

SOURCE = "npsloop"
MAX_ENTRIES = 10  # PutEvents takes at most 10 entries per call
MAX_REQUEST_BYTES = 256 * 1024  # ... whose sizes (AWS's rule: Source, DetailType, Detail) total less


class EventTooLarge(PublishFailed):
    """One event over PutEvents' size limit on its own: it can never be put."""


def entry_size(entry: dict[str, Any]) -> int:
    """A PutEvents entry's size as EventBridge computes it (no Time or Resources here)."""
    return sum(len(entry[name].encode("utf-8")) for name in ("Source", "DetailType", "Detail"))


class EventBridgeBus(EventBus):
    def __init__(self, bus_name: str, client: Any | None = None) -> None:
        self._bus_name = bus_name
        self._client = client or boto3.client("events")

    def put(self, events: list[BusEvent]) -> None:
        entries = [
            {
                "EventBusName": self._bus_name,
                "Source": SOURCE,
                "DetailType": event.detail_type,
                "Detail": json.dumps(event.detail, ensure_ascii=False, default=str),
            }
            for event in events
        ]
        for chunk in _requests(entries):
            self._put(chunk)

    def _put(self, entries: list[dict[str, Any]]) -> None:
        try:
            result = self._client.put_events(Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            raise PublishFailed(f"put_events: {type(exc).__name__}") from exc
        if result.get("FailedEntryCount"):
            codes = sorted({e.get("ErrorCode", "?") for e in result.get("Entries", []) if e.get("ErrorCode")})
            # Putting the whole chunk again is safe: every detail carries a deterministic event_id.
            raise PublishFailed(f"put_events: {result['FailedEntryCount']} entries failed ({', '.join(codes)})")


def _requests(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The entries in order, in requests of at most 10 entries and under 256 KB in total."""
    requests: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for entry in entries:
        entry_bytes = entry_size(entry)
        if entry_bytes >= MAX_REQUEST_BYTES:
            raise EventTooLarge(f"put_events: a {entry['DetailType']} event of {entry_bytes} bytes is over the limit")
        if current and (len(current) == MAX_ENTRIES or size + entry_bytes >= MAX_REQUEST_BYTES):
            requests.append(current)
            current, size = [], 0
        current.append(entry)
        size += entry_bytes
    if current:
        requests.append(current)
    return requests
