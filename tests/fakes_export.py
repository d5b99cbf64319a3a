"""Fakes and record builders for the export's unit tests."""

from __future__ import annotations

import gzip
import json
from typing import Any

from npsloop.ports import EventParking
from npsloop.ports.export import ExportSink, ExportWriteFailed, PseudonymKeyStore
from tests.stream_records import lambda_record


class MemoryBucket(ExportSink):
    """Objects by key; keys listed in ``failing`` refuse the put (by prefix match)."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.puts: list[str] = []
        self.failing: list[str] = []

    def put(self, key: str, body: bytes) -> None:
        self.puts.append(key)
        if any(key.startswith(prefix) for prefix in self.failing):
            raise ExportWriteFailed("SlowDown")
        self.objects[key] = body

    def rows(self, prefix: str = "") -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for key in sorted(self.objects)
            if key.startswith(prefix)
            for line in gzip.decompress(self.objects[key]).decode().splitlines()
        ]


class StaticPseudonymKey(PseudonymKeyStore):
    def __init__(self, key: bytes = b"unit-test-pseudonym-key") -> None:
        self.key = key
        self.reads = 0

    def pseudonym_key(self) -> bytes:
        self.reads += 1
        return self.key


class RecordingParking(EventParking):
    def __init__(self) -> None:
        self.parked: list[tuple[Any, str]] = []

    def park(self, event: Any, reason: str) -> None:
        self.parked.append((event, reason))


def stream_record(
    kind: str, sequence: int, new: dict[str, Any] | None = None, old: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A Lambda DynamoDB stream record (NEW_AND_OLD_IMAGES) for the given plain images."""
    return lambda_record(kind, new, old, sequence=sequence)


def response_image(invitation_id: str = "inv1", **changes: Any) -> dict[str, Any]:
    image: dict[str, Any] = {
        "pk": f"INV#{invitation_id}",
        "sk": "RESPONSE",
        "entity": "response",
        "invitation_id": invitation_id,
        "program_id": "post-purchase-nps",
        "program_version": 1,
        "survey_type": "nps",
        "customer_id": "C-100234",
        "locale": "en-GB",
        "context": {"store": "online-uk", "region": "uk", "channel": "web", "product": "espresso-machine"},
        "vip": False,
        "score": 9,
        "comment": "Quick delivery",
        "version": 1,
        "created_at": "2026-11-20T10:30:00.000Z",
        "updated_at": "2026-11-20T10:30:00.000Z",
    }
    image.update(changes)
    return image


def invitation_image(invitation_id: str = "inv1", **changes: Any) -> dict[str, Any]:
    image: dict[str, Any] = {
        "pk": f"INV#{invitation_id}",
        "sk": "INVITATION",
        "entity": "invitation",
        "invitation_id": invitation_id,
        "program_id": "post-purchase-nps",
        "program_version": 1,
        "template_id": "survey-invitation",
        "template_version": 1,
        "survey_type": "nps",
        "customer_id": "C-100234",
        "business_key": "ORD-2026-5531",
        "event_id": "evt-ord-5531",
        "locale": "en-GB",
        "time_zone": "Europe/London",
        "context": {"store": "online-uk", "region": "uk", "channel": "web"},
        "vip": False,
        "status": "sent",
        "created_at": "2026-11-20T10:15:00.000Z",
        "sent_at": "2026-11-20T10:15:01.000Z",
        "message_id": "0102019-abc",
    }
    image.update(changes)
    return image
