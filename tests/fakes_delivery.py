"""Fakes and helpers for the delivery area: an in-memory DeliveryStore and SNS-wrapped SES fixtures."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

from npsloop.domain.delivery import InvitationDelivery, Suppression
from npsloop.ports.delivery import DeliveryRecorded, DeliveryStore, InvitationNotSettled
from tests.conftest import load_event


def ses_fixture(name: str, **changes: Any) -> dict[str, Any]:
    """``events/<name>.json`` as a dict, with top-level ``mail`` keys replaced by ``changes``."""
    document = load_event(f"{name}.json")
    document["mail"].update(changes)
    return document


def sns_event(*messages: dict[str, Any] | str, sns_message_id: str = "5e1a7f3c-0000-4000-8000-000000000001") -> dict:
    """A Lambda SNS event carrying each message (a dict is JSON-encoded, a str is sent as it is)."""
    template = load_event("sns-envelope.json", sns_message_id=sns_message_id)["Records"][0]
    records = []
    for index, message in enumerate(messages):
        record = json.loads(json.dumps(template))
        record["Sns"]["MessageId"] = f"{sns_message_id[:-4]}{index:04d}"
        record["Sns"]["Message"] = message if isinstance(message, str) else json.dumps(message)
        records.append(record)
    return {"Records": records}


class InMemoryDeliveryStore(DeliveryStore):
    """The DynamoDB adapter's rules, in memory: first-seen wins, the status only moves up its ranks."""

    def __init__(self) -> None:
        self.invitations: dict[str, dict[str, Any]] = {}
        self.suppressions: dict[str, dict[str, Any]] = {}
        self.objections: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def add_invitation(self, invitation_id: str, customer_id: str, status: str = "sent") -> None:
        self.invitations[invitation_id] = {"status": status, "customer_id": customer_id}

    def record_delivery(self, invitation_id: str, delivery: InvitationDelivery) -> DeliveryRecorded:
        with self._lock:
            item = self.invitations.get(invitation_id)
            if item is None:
                return DeliveryRecorded(found=False)
            if item["status"] == "pending":
                raise InvitationNotSettled(invitation_id)
            for attribute, value in {**delivery.first_seen, **delivery.details}.items():
                item.setdefault(attribute, value)
            if delivery.status is not None and delivery.status.rank > item.get("delivery_rank", 0):
                item["delivery_status"], item["delivery_rank"] = delivery.status.value, delivery.status.rank
            return DeliveryRecorded(found=True, customer_id=item["customer_id"])

    def suppress(self, suppression: Suppression) -> None:
        with self._lock:
            item = self.suppressions.setdefault(suppression.address_key, {"reasons": set()})
            item["reasons"].add(suppression.reason.value)
            item.setdefault("reason", suppression.reason.value)
            item.setdefault("first_seen_at", suppression.at)
            item.setdefault("message_id", suppression.message_id)
            if suppression.bounce_sub_type:
                item.setdefault("bounce_sub_type", suppression.bounce_sub_type)

    def record_objection(self, customer_id: str, at: datetime) -> None:
        with self._lock:
            self.objections.setdefault(customer_id, at)
