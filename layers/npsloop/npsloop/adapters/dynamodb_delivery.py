"""The table's side of SES delivery reports: invitation delivery status, suppressions, objections.

Every write is an UpdateItem that only ever sets what is absent or raises a rank, so the at-least-once
SNS -> Lambda hop, replays and reports arriving out of order all leave the same item.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from npsloop.adapters.dynamodb_items import (
    StorageError,
    _is_conditional_failure,
    _iso,
    invitation_key,
    stamp_profile_once,
    suppression_key,
)
from npsloop.domain.delivery import InvitationDelivery, Suppression
from npsloop.domain.invitations import InvitationStatus
from npsloop.ports.delivery import DeliveryRecorded, DeliveryStore, InvitationNotSettled

_SETTLED = "attribute_exists(pk) AND #status <> :pending"


class DynamoDeliveryStore(DeliveryStore):
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def record_delivery(self, invitation_id: str, delivery: InvitationDelivery) -> DeliveryRecorded:
        names: dict[str, str] = {"#status": "status"}
        values: dict[str, Any] = {":pending": {"S": InvitationStatus.PENDING.value}}
        sets: list[str] = []
        for index, (attribute, instant) in enumerate(delivery.first_seen.items()):
            names[f"#t{index}"], values[f":t{index}"] = attribute, {"S": _iso(instant)}
            sets.append(f"#t{index} = if_not_exists(#t{index}, :t{index})")
        for index, (attribute, value) in enumerate(delivery.details.items()):
            names[f"#d{index}"], values[f":d{index}"] = attribute, {"S": value}
            sets.append(f"#d{index} = if_not_exists(#d{index}, :d{index})")

        if delivery.status is not None:
            raised = self._update(
                invitation_id,
                [*sets, "delivery_status = :ds", "delivery_rank = :dr"],
                f"{_SETTLED} AND (attribute_not_exists(delivery_rank) OR delivery_rank < :dr)",
                names,
                {**values, ":ds": {"S": delivery.status.value}, ":dr": {"N": str(delivery.status.rank)}},
            )
            if raised is not None:
                return raised
        # The status already ranks as high (or the invitation is missing or pending): timestamps only.
        if sets:
            recorded = self._update(invitation_id, sets, _SETTLED, names, values)
            if recorded is not None:
                return recorded
        return self._why_not(invitation_id)

    def _update(
        self, invitation_id: str, sets: list[str], condition: str, names: dict[str, str], values: dict[str, Any]
    ) -> DeliveryRecorded | None:
        """The update's result, or None when its condition failed."""
        try:
            result = self._client.update_item(
                TableName=self._table,
                Key=invitation_key(invitation_id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return None
            raise StorageError(str(exc)) from exc
        customer = result.get("Attributes", {}).get("customer_id", {}).get("S")
        return DeliveryRecorded(found=True, customer_id=customer)

    def _why_not(self, invitation_id: str) -> DeliveryRecorded:
        try:
            item = self._client.get_item(
                TableName=self._table, Key=invitation_key(invitation_id), ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        if item is None:
            return DeliveryRecorded(found=False)
        if item.get("status", {}).get("S") == InvitationStatus.PENDING.value:
            raise InvitationNotSettled(invitation_id)
        return DeliveryRecorded(found=True, customer_id=item.get("customer_id", {}).get("S"))

    def suppress(self, suppression: Suppression) -> None:
        at = _iso(suppression.at)
        names = {"#reason": "reason", "#reason_at": f"{suppression.reason.value}_at"}
        values: dict[str, Any] = {
            ":entity": {"S": "suppression"},
            ":key": {"S": suppression.address_key},
            ":reason": {"S": suppression.reason.value},
            ":reasons": {"SS": [suppression.reason.value]},
            ":at": {"S": at},
            ":mid": {"S": suppression.message_id},
        }
        sets = [
            "entity = :entity",
            "address_key = :key",
            "#reason = if_not_exists(#reason, :reason)",
            "first_seen_at = if_not_exists(first_seen_at, :at)",
            "#reason_at = if_not_exists(#reason_at, :at)",
            "message_id = if_not_exists(message_id, :mid)",
        ]
        for attribute, value in (
            ("bounce_sub_type", suppression.bounce_sub_type),
            ("complaint_feedback_type", suppression.complaint_feedback_type),
        ):
            if value:
                values[f":{attribute}"] = {"S": value}
                sets.append(f"{attribute} = if_not_exists({attribute}, :{attribute})")
        try:
            self._client.update_item(
                TableName=self._table,
                Key=suppression_key(suppression.address_key),
                UpdateExpression="SET " + ", ".join(sets) + " ADD reasons :reasons",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            raise StorageError(str(exc)) from exc

    def record_objection(self, customer_id: str, at: datetime) -> None:
        stamp_profile_once(self._client, self._table, customer_id, "objected_at", at)
