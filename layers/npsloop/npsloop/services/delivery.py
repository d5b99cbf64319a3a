"""SES delivery reports in (via SNS), invitation status, suppressions and objections out.

SNS delivers at least once and in no particular order, so every effect is idempotent and
order-free (``npsloop.ports.delivery.DeliveryStore``). A report we cannot read is parked in the
function's dead-letter queue with its reason and the invocation succeeds: a retry would read it
no better. Storage errors raise, so Lambda retries the invocation and finally sends it to the same
queue (the function's OnFailure destination).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from npsloop.domain.delivery import (
    DeliveryEvent,
    UnreadableNotification,
    invitation_delivery,
    parse_notification,
    setup_message,
    suppressions,
)
from npsloop.observability import count, logger
from npsloop.ports import EventParking
from npsloop.ports.delivery import DeliveryStore


@dataclass(frozen=True)
class DeliveryOutcome:
    result: Literal["recorded", "parked", "ignored"]
    kind: str | None = None
    message_id: str | None = None
    invitation_id: str | None = None
    invitation_found: bool = False
    suppressed: int = 0
    objection: bool = False
    reason: str | None = None


class DeliveryService:
    def __init__(self, *, store: DeliveryStore, parking: EventParking) -> None:
        self._store = store
        self._parking = parking

    def accept(self, raw_event: Any) -> list[DeliveryOutcome]:
        """Handle one Lambda SNS event: one outcome per record."""
        records = raw_event.get("Records") if isinstance(raw_event, dict) else None
        if not isinstance(records, list) or not records:
            return [self._park(raw_event, "not an SNS event: no Records")]
        return [self._record(record) for record in records]

    def _record(self, record: Any) -> DeliveryOutcome:
        sns = record.get("Sns") if isinstance(record, dict) else None
        sns = sns if isinstance(sns, dict) else {}
        message = sns.get("Message")
        setup = setup_message(sns.get("Type"), message)
        if setup is not None:
            # SES or SNS setting the topic up (on the first deploy): nothing to record, nothing to park.
            logger.info("SES setup message ignored", setup=setup, sns_message_id=_sns_message_id(record))
            count("DeliverySetupMessagesIgnored", setup=setup)
            return DeliveryOutcome(result="ignored", reason=setup)
        if not isinstance(message, str):
            return self._park(record, "not an SNS record: no Sns.Message string")
        try:
            event = parse_notification(message)
        except UnreadableNotification as exc:
            return self._park(record, str(exc))
        return self._apply(event)

    def _apply(self, event: DeliveryEvent) -> DeliveryOutcome:
        found, customer_id = False, None
        if event.invitation_id is None:
            logger.warning("no invitation found for SES report", kind=event.kind.value, message_id=event.message_id)
        else:
            recorded = self._store.record_delivery(event.invitation_id, invitation_delivery(event))
            found, customer_id = recorded.found, recorded.customer_id
            if not found:
                logger.warning(
                    "SES report for an unknown invitation",
                    kind=event.kind.value,
                    message_id=event.message_id,
                    invitation_id=event.invitation_id,
                )

        suppressed = suppressions(event)
        for suppression in suppressed:
            self._store.suppress(suppression)
        objection = event.records_objection and customer_id is not None
        if objection and customer_id is not None:
            self._store.record_objection(customer_id, event.timestamp)

        logger.info(
            "SES report recorded",
            kind=event.kind.value,
            format=event.format.value,
            message_id=event.message_id,
            invitation_id=event.invitation_id,
            bounce_type=event.bounce_type.value if event.bounce_type else None,
            suppressed=len(suppressed),
        )
        count("DeliveryReports", kind=event.kind.value)
        if suppressed:
            count("AddressesSuppressed", reason=suppressed[0].reason.value)
        return DeliveryOutcome(
            result="recorded",
            kind=event.kind.value,
            message_id=event.message_id,
            invitation_id=event.invitation_id,
            invitation_found=found,
            suppressed=len(suppressed),
            objection=objection,
        )

    def _park(self, payload: Any, reason: str) -> DeliveryOutcome:
        logger.warning("SES report parked", reason=reason, sns_message_id=_sns_message_id(payload))
        self._parking.park(payload, reason)
        count("DeliveryReportsParked")
        return DeliveryOutcome(result="parked", reason=reason)


def _sns_message_id(payload: Any) -> str | None:
    sns = payload.get("Sns") if isinstance(payload, dict) else None
    value = sns.get("MessageId") if isinstance(sns, dict) else None
    return value if isinstance(value, str) and len(value) <= 128 else None
