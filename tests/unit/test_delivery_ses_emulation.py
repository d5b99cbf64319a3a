"""The local stack's SES event publishing: mailbox-simulator scenarios, MatchingEventTypes, parseable records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from npsloop.domain.delivery import parse_notification
from npsloop_local import ses_events
from npsloop_local.ses_events import SendRequest, SesEventPublisher, SnsDestination

TOPIC = "arn:aws:sns:eu-west-1:123456789012:npsloop-local-ses-notifications"
RAW = (
    "From: Acme <surveys@acme.example>\r\nTo: {to}\r\nSubject: How was it?\r\n"
    "X-Npsloop-Invitation: inv123\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
)


class RecordingSns:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict]] = []

    def publish(self, TopicArn: str, Message: str) -> dict:
        self.published.append((TopicArn, json.loads(Message)))
        return {"MessageId": str(len(self.published))}


def publish_to(recipient: str, types: set[str], configuration_set: str | None = "npsloop-local") -> list[dict]:
    sns = RecordingSns()
    publisher = SesEventPublisher(
        {"npsloop-local": [SnsDestination(TOPIC, frozenset(types))]},
        sns,
        lambda: datetime(2026, 11, 20, 10, 30, tzinfo=UTC),
        "123456789012",
        "eu-west-1",
    )
    message = SimpleNamespace(
        id=f"msg-{recipient}",
        source="surveys@acme.example",
        destinations=[recipient],
        raw_data=RAW.format(to=recipient),
    )
    ses_events._recorded[message.id] = SendRequest(configuration_set, {"program": "p1", "invitation": "inv123"})
    publisher.publish(message)
    return [record for _topic, record in sns.published]


ALL = {"send", "delivery", "bounce", "complaint", "reject", "renderingfailure"}


@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        ("jane@example.com", [("Send", None), ("Delivery", None)]),
        ("bounce@simulator.amazonses.com", [("Send", None), ("Bounce", ("Permanent", "General"))]),
        ("bounce+x1@simulator.amazonses.com", [("Send", None), ("Bounce", ("Permanent", "General"))]),
        ("suppressionlist@simulator.amazonses.com", [("Send", None), ("Bounce", ("Permanent", "Suppressed"))]),
        ("ooto@simulator.amazonses.com", [("Send", None), ("Delivery", None), ("Bounce", ("Transient", "General"))]),
        ("complaint@simulator.amazonses.com", [("Send", None), ("Delivery", None), ("Complaint", None)]),
    ],
)
def test_the_mailbox_simulator_scenarios(recipient, expected):
    records = publish_to(recipient, ALL)

    got = [
        (r["eventType"], (r["bounce"]["bounceType"], r["bounce"]["bounceSubType"]) if "bounce" in r else None)
        for r in records
    ]
    assert got == expected
    for record in records:  # every record is one the delivery function reads, with tags and header
        parsed = parse_notification(json.dumps(record))
        assert (parsed.invitation_id, parsed.program_id) == ("inv123", "p1")
        assert {"name": "X-Npsloop-Invitation", "value": "inv123"} in record["mail"]["headers"]
        assert record["mail"]["tags"]["ses:configuration-set"] == ["npsloop-local"]


def test_only_matching_event_types_are_published():
    records = publish_to("complaint@simulator.amazonses.com", {"bounce", "complaint"})

    assert [r["eventType"] for r in records] == ["Complaint"]


def test_mail_sent_without_a_configuration_set_publishes_nothing():
    assert publish_to("bounce@simulator.amazonses.com", ALL, configuration_set=None) == []
