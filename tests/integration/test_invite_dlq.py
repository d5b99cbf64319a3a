"""Paused sending, the stuck-invitation sweep and the DLQ redrive tool, on the local stack."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from npsloop.services.invite import CLAIM_LEASE
from tests.conftest import ROOT, load_event
from tests.stack_support import sent_emails
from tools.redrive_invite_dlq import main as redrive_main
from tools.redrive_invite_dlq import redrive

ORDER = json.loads((ROOT / "events/put-events/order-completed.json").read_text(encoding="utf-8"))["Entries"][0]


def order_entry(stack, order_id: str = "ORD-2026-5531", **detail_changes) -> dict:
    detail = json.loads(ORDER["Detail"])
    detail.update(order_id=order_id, event_id=f"evt-{order_id}", **detail_changes)
    return {**ORDER, "Detail": json.dumps(detail), "EventBusName": stack.outputs["EventBusName"]}


@pytest.fixture
def ses_hooks():
    """botocore hooks on the app's SES calls (registered on the default session before the clients exist)."""
    events = boto3._get_default_session().events
    registered: list = []

    def register(name, handler):
        events.register(name, handler, unique_id=f"test-{name}")
        registered.append(name)

    yield register
    for name in registered:
        events.unregister(name, unique_id=f"test-{name}")


class SendingSwitch:
    """The configuration set's sending option: while paused, SES answers SendEmail as SESv2 does."""

    def __init__(self) -> None:
        self.paused = True

    def __call__(self, **_kwargs):
        if not self.paused:
            return None  # the real call goes ahead
        return paused()


def paused():
    body = {"Error": {"Code": "SendingPausedException", "Message": "Sending is paused for this configuration set."}}
    return AWSResponse("https://email.eu-west-1.amazonaws.com", 400, {}, None), body


def dlq_messages(stack) -> list[dict]:
    sqs, url = stack.client("sqs"), stack.outputs["InviteDeadLetterQueueUrl"]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    messages = received.get("Messages", [])
    for message in messages:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return messages


def test_paused_sending_waits_in_the_dlq_and_the_redrive_sends_it_after_resuming(stack, table, ses_hooks):
    sqs, events = stack.client("sqs"), stack.client("events")
    queue, bus = stack.outputs["InviteDeadLetterQueueUrl"], stack.outputs["EventBusName"]
    sending = SendingSwitch()
    ses_hooks("before-call.sesv2.SendEmail", sending)
    stack.put_events([order_entry(stack)])
    invalid = load_event("invalid-order-completed.json")
    stack.put_events([{"Source": invalid["source"], "DetailType": invalid["detail-type"],
                       "Detail": json.dumps(invalid["detail"]), "EventBusName": bus}])  # fmt: skip
    # The rule's own dead letter (EventBridge could not invoke the function): the body is the event.
    rule_dead_letter = load_event("order-completed.json")
    rule_dead_letter["detail"]["order_id"] = "ORD-2026-9999"
    rule_dead_letter["detail"]["customer"].update(id="C-200345", email="sam.roe@example.com")
    sqs.send_message(
        QueueUrl=queue,
        MessageBody=json.dumps(rule_dead_letter),
        MessageAttributes={
            "ERROR_CODE": {"DataType": "String", "StringValue": "Lambda.TooManyRequestsException"},
            "RULE_ARN": {"DataType": "String", "StringValue": "arn:aws:events:eu-west-1:123456789012:rule/x"},
        },
    )
    stack.drain()  # the order fails three times (SES paused), then Lambda's record goes to the DLQ

    waiting = table.get("INV#" + table.items("invitation")[0]["invitation_id"]["S"], "INVITATION")
    profile = table.get("CUST#C-100234", "PROFILE") or {}
    shapes = sorted(
        "record" if "requestPayload" in json.loads(m["Body"]) else "parked" if "parked_by" in
        m.get("MessageAttributes", {}) else "event" for m in dlq_messages(stack)
    )  # fmt: skip
    dry = redrive(sqs, events, queue, bus, dry_run=True)
    sending.paused = False  # the operator resumes sending, then redrives
    report = redrive(sqs, events, queue, bus)
    stack.drain()
    again = redrive(sqs, events, queue, bus)

    assert waiting["status"]["S"] == "pending"
    assert not {"claim_token", "gsi3pk", "lease_until_epoch"} & set(waiting)  # released: a retry may take it
    assert "lc#post-purchase-nps" not in profile
    assert shapes == ["event", "parked", "record"]
    assert (dry.received, dry.redriven, dry.skipped_invalid, dry.dry_run) == (3, 2, 1, True)
    assert (report.redriven, report.skipped_invalid, report.failed) == (2, 1, 0)
    assert len(sent_emails(stack)) == 2
    assert {i["status"]["S"] for i in table.items("invitation")} == {"sent"}
    assert (again.received, again.redriven, again.skipped_invalid) == (1, 0, 1)  # the parked event stays


def test_the_redrive_command_includes_invalid_events_only_when_asked(stack, capsys):
    invalid = load_event("invalid-order-completed.json")
    stack.invoke("InviteFunction", invalid)  # parked by the handler
    capsys.readouterr()  # its metrics
    args = ["--queue-url", stack.outputs["InviteDeadLetterQueueUrl"], "--event-bus", stack.outputs["EventBusName"]]

    assert redrive_main(args) == 0
    skipped = json.loads(capsys.readouterr().out)
    assert redrive_main([*args, "--include-invalid"]) == 0
    included = json.loads(capsys.readouterr().out)
    stack.drain()  # the replayed event is parked again, with its reason

    assert (skipped["redriven"], skipped["skipped_invalid"]) == (0, 1)
    assert (included["redriven"], included["skipped_invalid"]) == (1, 0)
    (parked,) = dlq_messages(stack)
    assert "order_id: Field required" in parked["MessageAttributes"]["reason"]["StringValue"]


def test_an_invitation_whose_send_is_unknown_is_not_resent_and_the_sweep_fails_it(stack, table, ses_hooks, clock):
    def answer_lost(**_kwargs):  # SES accepted the message (it is in the outbox); its answer never came
        raise ReadTimeoutError(endpoint_url="https://email.eu-west-1.amazonaws.com")

    ses_hooks("after-call.sesv2.SendEmail", answer_lost)
    stack.put_events([order_entry(stack)])
    stack.drain()  # three attempts: the first times out after SES accepted, the retries find the claim
    claimed = table.items("invitation")[0]
    clock.advance(CLAIM_LEASE + timedelta(minutes=15))
    stack.drain()  # the sweep runs on its schedule, the lease being over
    (swept,) = table.items("invitation")
    profile = table.get("CUST#C-100234", "PROFILE")
    report = redrive(
        stack.client("sqs"),
        stack.client("events"),
        stack.outputs["InviteDeadLetterQueueUrl"],
        stack.outputs["EventBusName"],
    )
    stack.drain()

    assert claimed["status"]["S"] == "pending" and claimed["gsi3pk"]["S"] == "INVITATIONS#claimed"
    assert (swept["status"]["S"], swept["failure_reason"]["S"]) == ("failed", "UnconfirmedSend")
    assert "gsi3pk" not in swept and "claim_token" not in swept
    assert "lc#post-purchase-nps" not in profile and "li#post-purchase-nps" not in profile
    assert report.redriven == 1
    assert len(sent_emails(stack)) == 1  # never twice
    assert table.items("invitation")[0]["status"]["S"] == "failed"
