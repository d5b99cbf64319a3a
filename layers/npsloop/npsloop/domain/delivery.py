"""What SES tells us about a sent invitation, in either of its two formats, as one DeliveryEvent.

SES reports on a message in two shapes (Amazon SES developer guide):

* the *notification* format of an identity's feedback notifications: ``notificationType`` is
  Bounce, Complaint or Delivery, and ``mail`` carries no tags;
* the *event-publishing* format of a configuration set's event destination: ``eventType`` is Send,
  Delivery, Bounce, Complaint, Open, Click, Reject, DeliveryDelay or Rendering Failure, and
  ``mail.tags`` carries the message tags the sender set.

Two kinds of complaint are not a person's complaint: ``complaintSubType: "OnAccountSuppressionList"``
(SES accepted the message but never sent it, the address being on the account's suppression list)
and ``complaintFeedbackType: "not-spam"`` (RFC 6430: the reporter says the message is *not* spam).

The topic also carries SES's setup messages (``setup_message``), which are recognised and ignored.

Both are parsed into a ``DeliveryEvent`` that holds no email address: recipients are kept as
``address_key`` hashes only, so neither logs nor the table ever see an address in the clear.
SES may add fields at any time, so unknown fields are ignored.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from npsloop.domain.invitations import address_key

INVITATION_HEADER = "X-Npsloop-Invitation"
"""MIME header the invite adds: the notification format has no tags, but it echoes the headers."""
INVITATION_TAG = "invitation"
ON_ACCOUNT_SUPPRESSION_LIST = "OnAccountSuppressionList"
NOT_SPAM = "not-spam"
# What SES publishes when a configuration set's event destination is set to the topic (a plain string).
EVENT_PUBLISHING_VALIDATED = "Successfully validated SNS topic for Amazon SES event publishing."
SUBSCRIPTION_SUCCEEDED = "AmazonSnsSubscriptionSucceeded"  # the notification format's topic is set


def setup_message(sns_type: Any, message: Any) -> str | None:
    """What an SNS record carries when it is SES or SNS setting the topic up, not a report; else None.

    - SNS ``Type: SubscriptionConfirmation`` (SNS confirms a Lambda subscription itself);
    - the plain-text ``Message`` SES sends when event publishing starts on the topic;
    - ``{"notificationType": "AmazonSnsSubscriptionSucceeded", "message": ...}`` when an identity's
      feedback notifications are pointed at the topic.
    """
    if sns_type == "SubscriptionConfirmation":
        return "sns_subscription_confirmation"
    if not isinstance(message, str):
        return None
    if message.strip() == EVENT_PUBLISHING_VALIDATED:
        return "ses_event_publishing_validated"
    if SUBSCRIPTION_SUCCEEDED in message:
        try:
            document = json.loads(message)
        except ValueError:
            return None
        if isinstance(document, dict) and document.get("notificationType") == SUBSCRIPTION_SUCCEEDED:
            return "ses_subscription_succeeded"
    return None


class UnreadableNotification(ValueError):
    """Not an SES notification we understand; the reason names fields, never their values."""


class DeliveryKind(StrEnum):
    SEND = "send"
    DELIVERY = "delivery"
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    OPEN = "open"
    CLICK = "click"
    REJECT = "reject"
    DELIVERY_DELAY = "delivery_delay"
    RENDERING_FAILURE = "rendering_failure"


class BounceType(StrEnum):
    PERMANENT = "Permanent"
    TRANSIENT = "Transient"
    UNDETERMINED = "Undetermined"


class DeliveryFormat(StrEnum):
    NOTIFICATION = "notification"
    EVENT_PUBLISHING = "event_publishing"


# Both spellings SES uses: ``eventType`` values, and the notification format's ``notificationType``.
_KINDS = {
    "send": DeliveryKind.SEND,
    "delivery": DeliveryKind.DELIVERY,
    "bounce": DeliveryKind.BOUNCE,
    "complaint": DeliveryKind.COMPLAINT,
    "open": DeliveryKind.OPEN,
    "click": DeliveryKind.CLICK,
    "reject": DeliveryKind.REJECT,
    "deliverydelay": DeliveryKind.DELIVERY_DELAY,
    "renderingfailure": DeliveryKind.RENDERING_FAILURE,
}
_NOTIFICATION_KINDS = {DeliveryKind.DELIVERY, DeliveryKind.BOUNCE, DeliveryKind.COMPLAINT}


# -- SES's JSON, as documented ------------------------------------------------------------------
class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Header(_Lenient):
    name: str
    value: str


class _Mail(_Lenient):
    timestamp: AwareDatetime
    message_id: str = Field(alias="messageId", min_length=1)
    destination: list[str] = []
    headers: list[_Header] = []
    tags: dict[str, list[str]] = {}


class _Recipient(_Lenient):
    email_address: str = Field(alias="emailAddress")


class _Bounce(_Lenient):
    bounce_type: BounceType = Field(alias="bounceType")
    bounce_sub_type: str = Field(alias="bounceSubType")
    bounced_recipients: list[_Recipient] = Field(alias="bouncedRecipients", min_length=1)
    timestamp: AwareDatetime
    feedback_id: str | None = Field(default=None, alias="feedbackId")


class _Complaint(_Lenient):
    complained_recipients: list[_Recipient] = Field(alias="complainedRecipients", min_length=1)
    timestamp: AwareDatetime
    feedback_id: str | None = Field(default=None, alias="feedbackId")
    complaint_feedback_type: str | None = Field(default=None, alias="complaintFeedbackType")
    complaint_sub_type: str | None = Field(default=None, alias="complaintSubType")


class _Delivery(_Lenient):
    timestamp: AwareDatetime
    recipients: list[str] = []


class _DelayedRecipient(_Lenient):
    email_address: str = Field(alias="emailAddress")


class _DeliveryDelay(_Lenient):
    timestamp: AwareDatetime
    delay_type: str = Field(alias="delayType")
    delayed_recipients: list[_DelayedRecipient] = Field(default=[], alias="delayedRecipients")


class _Timestamped(_Lenient):  # open and click: no address, a timestamp
    timestamp: AwareDatetime


class _Reject(_Lenient):
    reason: str


class _Failure(_Lenient):
    error_message: str | None = Field(default=None, alias="errorMessage")
    template_name: str | None = Field(default=None, alias="templateName")


# -- the normalised event -------------------------------------------------------------------------
class DeliveryEvent(BaseModel):
    """One SES report, whichever format it came in. No email address: only their hashes."""

    model_config = ConfigDict(frozen=True)

    kind: DeliveryKind
    format: DeliveryFormat
    message_id: str
    timestamp: AwareDatetime  # when it happened (the bounce, the delivery...); the send time for Send/Reject
    sent_at: AwareDatetime  # mail.timestamp
    recipient_keys: tuple[str, ...] = ()  # address_key of every recipient affected
    bounce_type: BounceType | None = None
    bounce_sub_type: str | None = None
    complaint_feedback_type: str | None = None
    complaint_sub_type: str | None = None
    delay_type: str | None = None
    failure_reason: str | None = None  # reject reason, or "rendering_failure"
    feedback_id: str | None = None
    invitation_id: str | None = None
    program_id: str | None = None

    @property
    def never_sent(self) -> bool:
        """A complaint SES raised itself: the address is on the account's suppression list, nothing went out."""
        return self.kind is DeliveryKind.COMPLAINT and self.complaint_sub_type == ON_ACCOUNT_SUPPRESSION_LIST

    @property
    def not_spam(self) -> bool:
        """A feedback report saying the message is not spam (RFC 6430): no complaint by anyone."""
        return self.kind is DeliveryKind.COMPLAINT and (self.complaint_feedback_type or "").lower() == NOT_SPAM

    @property
    def suppresses_address(self) -> bool:
        """A hard bounce, a complaint, or SES's own suppression list: never email that address again."""
        if self.kind is DeliveryKind.COMPLAINT:
            return not self.not_spam
        return self.kind is DeliveryKind.BOUNCE and self.bounce_type is BounceType.PERMANENT

    @property
    def records_objection(self) -> bool:
        """Only a person's complaint about a message they received is an objection to being surveyed."""
        return self.kind is DeliveryKind.COMPLAINT and not self.never_sent and not self.not_spam


def parse_notification(message: str | bytes | dict[str, Any]) -> DeliveryEvent:
    """An SNS ``Message`` (JSON text) from SES, in either format. Raises UnreadableNotification."""
    document = _load(message)
    event_type = document.get("eventType")
    notification_type = document.get("notificationType")
    raw_type = event_type if event_type is not None else notification_type
    if not isinstance(raw_type, str):
        raise UnreadableNotification("neither eventType nor notificationType is a string")
    kind = _KINDS.get(raw_type.replace(" ", "").replace("_", "").lower())
    if kind is None:
        raise UnreadableNotification(f"unknown SES event type {raw_type[:40]!r}")
    source_format = DeliveryFormat.EVENT_PUBLISHING if event_type is not None else DeliveryFormat.NOTIFICATION
    if source_format is DeliveryFormat.NOTIFICATION and kind not in _NOTIFICATION_KINDS:
        raise UnreadableNotification(f"notificationType {raw_type[:40]!r} is not one SES sends")
    try:
        return _normalise(kind, source_format, document)
    except ValidationError as exc:
        raise UnreadableNotification(describe(exc)) from exc


def describe(exc: ValidationError) -> str:
    """Field paths and messages only: the values may be email addresses."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(message)'}: {err['msg']}" for err in exc.errors())[
        :1000
    ]


def _load(message: str | bytes | dict[str, Any]) -> dict[str, Any]:
    if isinstance(message, dict):
        return message
    try:
        document = json.loads(message)
    except (TypeError, ValueError) as exc:
        raise UnreadableNotification("the SNS message is not JSON") from exc
    if not isinstance(document, dict):
        raise UnreadableNotification("the SNS message is JSON but not an object")
    return document


def _normalise(kind: DeliveryKind, source_format: DeliveryFormat, document: dict[str, Any]) -> DeliveryEvent:
    mail = _Mail.model_validate(_required(document, "mail"))
    common: dict[str, Any] = {
        "kind": kind,
        "format": source_format,
        "message_id": mail.message_id,
        "sent_at": mail.timestamp,
        "invitation_id": _invitation_id(mail),
        "program_id": _first(mail.tags.get("program")),
    }
    match kind:
        case DeliveryKind.BOUNCE:
            bounce = _Bounce.model_validate(_required(document, "bounce"))
            return DeliveryEvent(
                **common,
                timestamp=bounce.timestamp,
                recipient_keys=_keys(r.email_address for r in bounce.bounced_recipients),
                bounce_type=bounce.bounce_type,
                bounce_sub_type=bounce.bounce_sub_type,
                feedback_id=bounce.feedback_id,
            )
        case DeliveryKind.COMPLAINT:
            complaint = _Complaint.model_validate(_required(document, "complaint"))
            return DeliveryEvent(
                **common,
                timestamp=complaint.timestamp,
                recipient_keys=_keys(r.email_address for r in complaint.complained_recipients),
                complaint_feedback_type=complaint.complaint_feedback_type,
                complaint_sub_type=complaint.complaint_sub_type,
                feedback_id=complaint.feedback_id,
            )
        case DeliveryKind.DELIVERY:
            delivery = _Delivery.model_validate(_required(document, "delivery"))
            return DeliveryEvent(
                **common, timestamp=delivery.timestamp, recipient_keys=_keys(delivery.recipients or mail.destination)
            )
        case DeliveryKind.DELIVERY_DELAY:
            delay = _DeliveryDelay.model_validate(_required(document, "deliveryDelay"))
            return DeliveryEvent(
                **common,
                timestamp=delay.timestamp,
                recipient_keys=_keys(r.email_address for r in delay.delayed_recipients),
                delay_type=delay.delay_type,
            )
        case DeliveryKind.OPEN | DeliveryKind.CLICK:
            seen = _Timestamped.model_validate(_required(document, kind.value))
            return DeliveryEvent(**common, timestamp=seen.timestamp, recipient_keys=_keys(mail.destination))
        case DeliveryKind.REJECT:
            reject = _Reject.model_validate(_required(document, "reject"))
            return DeliveryEvent(
                **common,
                timestamp=mail.timestamp,
                recipient_keys=_keys(mail.destination),
                failure_reason=f"reject: {reject.reason[:100]}",
            )
        case DeliveryKind.RENDERING_FAILURE:
            _Failure.model_validate(_required(document, "failure"))
            return DeliveryEvent(
                **common,
                timestamp=mail.timestamp,
                recipient_keys=_keys(mail.destination),
                failure_reason="rendering_failure",
            )
        case DeliveryKind.SEND:
            return DeliveryEvent(**common, timestamp=mail.timestamp, recipient_keys=_keys(mail.destination))


def _required(document: dict[str, Any], field: str) -> Any:
    value = document.get(field)
    if not isinstance(value, dict):
        raise UnreadableNotification(f"{field}: missing or not an object")
    return value


def _keys(addresses: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(address_key(_bare(a)) for a in addresses if a))


def _bare(address: str) -> str:
    """``"Jane <jane@example.com>"`` -> ``jane@example.com`` (SES lists recipients either way)."""
    start, end = address.rfind("<"), address.rfind(">")
    return address[start + 1 : end] if 0 <= start < end else address


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _invitation_id(mail: _Mail) -> str | None:
    """From the message tag (event publishing) or the header the invite adds (both formats)."""
    tagged = _first(mail.tags.get(INVITATION_TAG))
    if tagged:
        return tagged
    for header in mail.headers:
        if header.name.lower() == INVITATION_HEADER.lower() and header.value.strip():
            return header.value.strip()
    return None


# -- what an event does to the invitation ---------------------------------------------------------
class DeliveryStatus(StrEnum):
    """The invitation's delivery status: a later event only ever moves it up this order."""

    SENT = "sent"
    DELAYED = "delayed"
    SOFT_BOUNCED = "soft_bounced"  # a transient bounce: an auto-reply or a full mailbox, may still arrive
    DELIVERED = "delivered"
    FAILED = "failed"  # rejected or not rendered by SES: never reached the recipient
    BOUNCED = "bounced"
    COMPLAINED = "complained"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {status: rank for rank, status in enumerate(DeliveryStatus, start=1)}


class InvitationDelivery(BaseModel):
    """The invitation attributes one event sets. Timestamps are written only if absent (replays are no-ops)."""

    model_config = ConfigDict(frozen=True)

    status: DeliveryStatus | None  # None for open / click: they never change the status
    first_seen: dict[str, datetime] = {}  # attribute -> instant, set if not yet set
    details: dict[str, str] = {}  # attribute -> value, set if not yet set


def invitation_delivery(event: DeliveryEvent) -> InvitationDelivery:
    match event.kind:
        case DeliveryKind.SEND:
            return InvitationDelivery(status=DeliveryStatus.SENT, first_seen={"ses_accepted_at": event.timestamp})
        case DeliveryKind.DELIVERY:
            return InvitationDelivery(status=DeliveryStatus.DELIVERED, first_seen={"delivered_at": event.timestamp})
        case DeliveryKind.DELIVERY_DELAY:
            return InvitationDelivery(
                status=DeliveryStatus.DELAYED,
                first_seen={"delayed_at": event.timestamp},
                details=_present(delay_type=event.delay_type),
            )
        case DeliveryKind.BOUNCE if event.bounce_type is BounceType.TRANSIENT:
            return InvitationDelivery(
                status=DeliveryStatus.SOFT_BOUNCED,
                first_seen={"soft_bounced_at": event.timestamp},
                details=_present(soft_bounce_sub_type=event.bounce_sub_type),
            )
        case DeliveryKind.BOUNCE:
            return InvitationDelivery(
                status=DeliveryStatus.BOUNCED,
                first_seen={"bounced_at": event.timestamp},
                details=_present(
                    bounce_type=event.bounce_type.value if event.bounce_type else None,
                    bounce_sub_type=event.bounce_sub_type,
                ),
            )
        case DeliveryKind.COMPLAINT if event.never_sent:
            return InvitationDelivery(
                status=DeliveryStatus.FAILED,
                first_seen={"delivery_failed_at": event.timestamp},
                details={"delivery_failure": "on_account_suppression_list"},
            )
        case DeliveryKind.COMPLAINT if event.not_spam:
            return InvitationDelivery(status=None, first_seen={"reported_not_spam_at": event.timestamp})
        case DeliveryKind.COMPLAINT:
            return InvitationDelivery(
                status=DeliveryStatus.COMPLAINED,
                first_seen={"complained_at": event.timestamp},
                details=_present(complaint_feedback_type=event.complaint_feedback_type),
            )
        case DeliveryKind.OPEN:
            return InvitationDelivery(status=None, first_seen={"opened_at": event.timestamp})
        case DeliveryKind.CLICK:
            return InvitationDelivery(status=None, first_seen={"clicked_at": event.timestamp})
        case DeliveryKind.REJECT | DeliveryKind.RENDERING_FAILURE:
            return InvitationDelivery(
                status=DeliveryStatus.FAILED,
                first_seen={"delivery_failed_at": event.timestamp},
                details=_present(delivery_failure=event.failure_reason),
            )


def _present(**values: str | None) -> dict[str, str]:
    return {name: value for name, value in values.items() if value}


class SuppressionReason(StrEnum):
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    ACCOUNT_SUPPRESSION_LIST = "account_suppression_list"  # SES refused to send: suppressed account-wide
    UNSUBSCRIBED = "unsubscribed"  # unsubscribed in a survey tool whose history was imported (npsloop.importing)


class Suppression(BaseModel):
    """An address never to email again, by its hash; the first report that suppressed it wins."""

    model_config = ConfigDict(frozen=True)

    address_key: str
    reason: SuppressionReason
    at: AwareDatetime
    message_id: str
    bounce_sub_type: str | None = None
    complaint_feedback_type: str | None = None


def suppressions(event: DeliveryEvent) -> list[Suppression]:
    if not event.suppresses_address:
        return []
    if event.never_sent:
        reason = SuppressionReason.ACCOUNT_SUPPRESSION_LIST
    elif event.kind is DeliveryKind.COMPLAINT:
        reason = SuppressionReason.COMPLAINT
    else:
        reason = SuppressionReason.HARD_BOUNCE
    return [
        Suppression(
            address_key=key,
            reason=reason,
            at=event.timestamp,
            message_id=event.message_id,
            bounce_sub_type=event.bounce_sub_type,
            complaint_feedback_type=event.complaint_feedback_type,
        )
        for key in event.recipient_keys
    ]
