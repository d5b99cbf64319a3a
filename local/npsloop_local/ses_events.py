"""SES event publishing, emulated: what a configuration set's SNS event destination would publish.

moto stores configuration sets but never emits their events, and its SESv2 ``SendEmail`` drops the
request's ``ConfigurationSetName`` and ``EmailTags``. So:

1. ``install_recorder`` wraps moto's SESv2 ``send_email`` response handler (once per process; the
   wrapper only records, moto's behaviour is unchanged) to remember, per message id, the
   configuration set and the tags of each send.
2. ``SesEventPublisher`` reads the template's ``AWS::SES::ConfigurationSetEventDestination``
   resources (SNS destinations, ``MatchingEventTypes``, ``Enabled``) and, for each message the
   outbox collects that was sent through such a set, publishes event-publishing-format records
   (``eventType``, ``mail`` with ``headers``, ``commonHeaders`` and ``tags``) to the topic, like the
   SES mailbox simulator:

   - anyone else: Send, Delivery;
   - ``bounce@simulator.amazonses.com`` (also ``bounce+label@``): Send, Bounce (Permanent, General);
   - ``complaint@``: Send, Delivery, Complaint (abuse);
   - ``suppressionlist@``: Send, Bounce (Permanent, Suppressed);
   - ``ooto@``: Send, Delivery, Bounce (Transient, General) - the auto-reply.

The template's SNS subscriptions then carry them to the functions on ``stack.drain()``.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import functools
import json
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.sesv2.responses import SESV2Response

__all__ = ["SesEventPublisher", "install_recorder"]

log = logging.getLogger(__name__)

SIMULATOR_DOMAIN = "simulator.amazonses.com"
_MAX_RECORDED = 10_000

_recorded: OrderedDict[str, SendRequest] = OrderedDict()
_recorded_lock = threading.Lock()
_install_lock = threading.Lock()
_installed = False


@dataclass(frozen=True)
class SendRequest:
    """What moto forgets about a SendEmail request."""

    configuration_set: str | None
    tags: dict[str, str]


def install_recorder() -> None:
    """Remember each SESv2 SendEmail's configuration set and tags by message id (idempotent)."""
    global _installed  # noqa: PLW0603
    with _install_lock:
        if _installed:
            return
        original = SESV2Response.send_email

        @functools.wraps(original)
        def send_email(self: SESV2Response) -> str:
            body = original(self)
            try:
                params = json.loads(self.body)
                message_id = json.loads(body)["MessageId"]
            except (ValueError, KeyError, TypeError):
                return body
            tags = {t["Name"]: t["Value"] for t in params.get("EmailTags") or [] if "Name" in t and "Value" in t}
            with _recorded_lock:
                _recorded[message_id] = SendRequest(params.get("ConfigurationSetName"), tags)
                while len(_recorded) > _MAX_RECORDED:
                    _recorded.popitem(last=False)
            return body

        SESV2Response.send_email = send_email  # type: ignore[method-assign]
        _installed = True


def _take(message_id: str) -> SendRequest | None:
    with _recorded_lock:
        return _recorded.pop(message_id, None)


def _type_key(name: str) -> str:
    """``renderingFailure``, ``RENDERING_FAILURE`` and ``Rendering Failure`` all name one type."""
    return name.replace(" ", "").replace("_", "").lower()


@dataclass(frozen=True)
class SnsDestination:
    topic_arn: str
    event_types: frozenset[str]  # _type_key of each matching type


@dataclass
class SesEventPublisher:
    """Publishes the events SES would publish for each sent message of a configuration set."""

    destinations: dict[str, list[SnsDestination]]  # configuration set name -> its SNS destinations
    sns_client: Any
    now: Callable[[], datetime]
    account_id: str
    region: str

    @classmethod
    def from_template(cls, resolver: Any, sns_client: Any, now: Callable[[], datetime]) -> SesEventPublisher:
        """The SNS event destinations of the resolver's template (installs the send recorder)."""
        install_recorder()
        destinations: dict[str, list[SnsDestination]] = {}
        for logical_id, resource in resolver.template.resources_of_type(
            "AWS::SES::ConfigurationSetEventDestination"
        ).items():
            if "Condition" in resource and not resolver.condition(resource["Condition"]):
                continue
            props = resolver.resolve(resource.get("Properties", {}))
            destination = props.get("EventDestination", {})
            topic = (destination.get("SnsDestination") or {}).get("TopicARN")
            if not topic or destination.get("Enabled", False) is False:
                log.info("ses events: %s is not an enabled SNS destination", logical_id)
                continue
            types = frozenset(_type_key(t) for t in destination.get("MatchingEventTypes", []))
            destinations.setdefault(str(props["ConfigurationSetName"]), []).append(SnsDestination(topic, types))
        return cls(destinations, sns_client, now, resolver.account_id, resolver.region)

    def publish(self, message: Any) -> int:
        """Publish the events of one message moto sent; return how many notifications went out."""
        request = _take(str(getattr(message, "id", "")))
        if request is None or not request.configuration_set:
            return 0
        destinations = self.destinations.get(request.configuration_set, [])
        if not destinations:
            return 0
        published = 0
        for record in self.events(message, request):
            kind = _type_key(record["eventType"])
            for destination in destinations:
                if kind in destination.event_types:
                    self.sns_client.publish(TopicArn=destination.topic_arn, Message=json.dumps(record))
                    published += 1
        return published

    def events(self, message: Any, request: SendRequest) -> list[dict[str, Any]]:
        """The event records, in the order SES would publish them, for every recipient."""
        sent_at = self.now().astimezone(UTC)
        # moto lists a raw message's recipient once from the request and again from its To header;
        # SES reports each recipient once.
        recipients = list(dict.fromkeys(str(r) for r in getattr(message, "destinations", []) or []))
        mail = self._mail(message, request, recipients, sent_at)
        records: list[dict[str, Any]] = [{"eventType": "Send", "mail": mail, "send": {}}]
        for recipient in recipients:
            records.extend(_simulated(recipient, mail, sent_at))
        return records

    def _mail(self, message: Any, request: SendRequest, recipients: list[str], sent_at: datetime) -> dict[str, Any]:
        source = str(getattr(message, "source", ""))
        parsed = email.message_from_string(str(getattr(message, "raw_data", "") or ""), policy=email.policy.compat32)
        headers = [{"name": name, "value": str(value)} for name, value in parsed.items()]
        tags: dict[str, list[str]] = {
            "ses:configuration-set": [request.configuration_set or ""],
            "ses:source-ip": ["127.0.0.1"],
            "ses:from-domain": [email.utils.parseaddr(source)[1].rpartition("@")[2]],
            "ses:caller-identity": ["npsloop-local"],
        }
        tags.update({name: [value] for name, value in request.tags.items()})
        common = {"from": [str(parsed.get("From", source))], "to": recipients, "messageId": str(message.id)}
        if parsed.get("Subject") is not None:
            common["subject"] = str(parsed["Subject"])
        return {
            "timestamp": _iso(sent_at),
            "source": source,
            "sourceArn": f"arn:aws:ses:{self.region}:{self.account_id}:identity/{email.utils.parseaddr(source)[1]}",
            "sendingAccountId": self.account_id,
            "messageId": str(message.id),
            "destination": recipients,
            "headersTruncated": False,
            "headers": headers,
            "commonHeaders": common,
            "tags": tags,
        }


def _simulated(recipient: str, mail: dict[str, Any], sent_at: datetime) -> list[dict[str, Any]]:
    """What the mailbox simulator (or, for anyone else, a happy mail server) reports for a recipient."""
    address = email.utils.parseaddr(recipient)[1] or recipient
    local, _, domain = address.lower().rpartition("@")
    scenario = local.split("+", 1)[0] if domain == SIMULATOR_DOMAIN else "success"
    delivered = {"eventType": "Delivery", "mail": mail, "delivery": _delivery(address, sent_at + timedelta(seconds=1))}
    match scenario:
        case "bounce":
            return [_bounce(mail, address, "Permanent", "General", "5.1.1", sent_at)]
        case "suppressionlist":
            return [_bounce(mail, address, "Permanent", "Suppressed", "5.1.1", sent_at)]
        case "ooto":
            return [delivered, _bounce(mail, address, "Transient", "General", "2.0.0", sent_at)]
        case "complaint":
            complaint = {
                "complainedRecipients": [{"emailAddress": address}],
                "timestamp": _iso(sent_at + timedelta(seconds=3)),
                "feedbackId": _feedback_id(),
                "userAgent": "Amazon SES Mailbox Simulator",
                "complaintFeedbackType": "abuse",
                "arrivalDate": _iso(sent_at + timedelta(seconds=2)),
            }
            return [delivered, {"eventType": "Complaint", "mail": mail, "complaint": complaint}]
        case _:
            return [delivered]


def _delivery(address: str, at: datetime) -> dict[str, Any]:
    return {
        "timestamp": _iso(at),
        "processingTimeMillis": 1000,
        "recipients": [address],
        "smtpResponse": "250 2.6.0 Message received",
        "reportingMTA": "local.smtp-out.amazonses.com",
    }


def _bounce(  # noqa: PLR0917 - a record literal
    mail: dict[str, Any], address: str, bounce_type: str, sub_type: str, status: str, sent_at: datetime
) -> dict[str, Any]:
    return {
        "eventType": "Bounce",
        "mail": mail,
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": sub_type,
            "bouncedRecipients": [
                {"emailAddress": address, "action": "failed", "status": status, "diagnosticCode": "smtp; simulated"}
            ],
            "timestamp": _iso(sent_at + timedelta(seconds=2)),
            "feedbackId": _feedback_id(),
            "reportingMTA": "dsn; local.smtp-out.amazonses.com",
        },
    }


def _feedback_id() -> str:
    return f"{uuid.uuid4()}-000000"


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
