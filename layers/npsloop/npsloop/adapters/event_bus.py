"""Amazon EventBridge: npsloop's own events (source ``npsloop``) on the stack's bus, for CRM integration."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from npsloop.ports.cases import BusEvent, EventBus, PublishFailed

SOURCE = "npsloop"
MAX_ENTRIES = 10  # PutEvents takes at most 10 entries per call


class EventBridgeBus(EventBus):
    def __init__(self, bus_name: str, client: Any | None = None) -> None:
        self._bus_name = bus_name
        self._client = client or boto3.client("events")

    def put(self, events: list[BusEvent]) -> None:
        for start in range(0, len(events), MAX_ENTRIES):
            entries = [
                {
                    "EventBusName": self._bus_name,
                    "Source": SOURCE,
                    "DetailType": event.detail_type,
                    "Detail": json.dumps(event.detail, ensure_ascii=False, default=str),
                }
                for event in events[start : start + MAX_ENTRIES]
            ]
            try:
                result = self._client.put_events(Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                raise PublishFailed(f"put_events: {type(exc).__name__}") from exc
            if result.get("FailedEntryCount"):
                codes = sorted({e.get("ErrorCode", "?") for e in result.get("Entries", []) if e.get("ErrorCode")})
                # Putting the whole chunk again is safe: every detail carries a deterministic event_id.
                raise PublishFailed(f"put_events: {result['FailedEntryCount']} entries failed ({', '.join(codes)})")
