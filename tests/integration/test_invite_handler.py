"""The invite handler with its real adapters (DynamoDB, SES, SQS, Secrets Manager) under moto."""

from __future__ import annotations

import copy
import json

import boto3

from tests.conftest import at_once
from tests.stack_support import sent_emails


def invite(stack, payload):
    return stack.invoke("InviteFunction", payload)["outcomes"]


def test_an_order_event_sends_one_email_through_ses_and_stores_the_invitation(stack, table, event):
    outcomes = invite(stack, event("order-completed.json"))

    assert [o["result"] for o in outcomes] == ["sent"]
    (message,) = sent_emails(stack)
    assert message["To"] == "jane.doe@example.com"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    (item,) = table.items("invitation")
    assert item["status"]["S"] == "sent"
    assert item["message_id"]["S"]
    assert item["program_id"]["S"] == "post-purchase-nps"
    assert item["program_version"]["N"] == "3"
    assert (item["template_id"]["S"], item["template_version"]["N"]) == ("survey-invitation", "1")
    assert "jane.doe@example.com" not in json.dumps(item).lower()  # no address stored with the invitation
    assert "+447700900123" not in json.dumps(item)


def test_the_same_event_twice_gives_one_invitation_and_one_email(stack, table, event):
    first = invite(stack, event("order-completed.json"))
    second = invite(stack, event("order-completed.json"))

    assert [first[0]["result"], second[0]["result"]] == ["sent", "duplicate"]
    assert len(sent_emails(stack)) == 1
    assert len(table.items("invitation")) == 1


def test_the_same_order_under_a_new_event_id_gives_one_invitation_and_one_email(stack, table, event):
    original = event("order-completed.json")
    again = copy.deepcopy(original)
    again["id"] = "99999999-8888-4777-8666-555555555555"
    again["detail"]["event_id"] = "evt-ord-5531-resent"

    invite(stack, original)
    outcome = invite(stack, again)

    assert outcome[0]["result"] == "duplicate"
    assert len(sent_emails(stack)) == 1
    assert len(table.items("invitation")) == 1


def test_five_concurrent_invocations_give_one_invitation_and_one_email(stack, table, event):
    # The in-flight losers fail so that Lambda retries them.
    outcomes, failures = at_once(5, lambda: invite(stack, event("order-completed.json")))
    results = [outcome for batch in outcomes for outcome in batch]
    retries = [invite(stack, event("order-completed.json")) for _ in failures]

    assert len(sent_emails(stack)) == 1
    assert len(table.items("invitation")) == 1
    assert [r["result"] for r in results].count("sent") == 1
    assert all(r[0]["result"] == "duplicate" for r in retries)
    assert all(type(f).__name__ == "InvitationInFlight" for f in failures)


def test_a_customer_without_email_consent_is_skipped_with_the_reason_recorded(stack, table, event):
    outcome = invite(stack, event("order-completed-no-consent.json"))

    assert outcome[0]["reason"] == "no_email_consent"
    assert sent_emails(stack) == []
    (item,) = table.items("invitation")
    assert (item["status"]["S"], item["skip_reason"]["S"]) == ("skipped", "no_email_consent")


def test_an_invalid_event_is_parked_in_the_dlq_with_its_reason_and_not_retried(stack, table, event):
    outcome = invite(stack, event("invalid-order-completed.json"))

    assert outcome[0]["result"] == "parked"
    queue_url = stack.outputs["InviteDeadLetterQueueUrl"]
    messages = boto3.client("sqs").receive_message(
        QueueUrl=queue_url, MessageAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    (parked,) = messages
    assert json.loads(parked["Body"])["id"] == "e0e0e0e0-1111-4222-8333-444455556666"
    assert "order_id: Field required" in parked["MessageAttributes"]["reason"]["StringValue"]
    assert table.items() == []


def test_each_program_gets_its_own_survey_type(stack, table, event):
    invite(stack, event("support-ticket-closed.json"))
    invite(stack, event("store-visit-recorded.json"))

    types = {i["program_id"]["S"]: i["survey_type"]["S"] for i in table.items("invitation")}

    # Sampled out or not, every decision is stored with the program's survey type.
    assert types == {"support-ces": "ces", "store-visit-csat": "csat"}


def test_an_address_ses_refuses_is_marked_failed_and_not_retried(stack, table, event):
    # moto refuses to send from an identity that is not verified, as SES does
    stack.client("ses").delete_identity(Identity="example.com")

    outcome = invite(stack, event("order-completed.json"))

    assert (outcome[0]["result"], outcome[0]["reason"]) == ("failed", "MessageRejected")
    (item,) = table.items("invitation")
    assert (item["status"]["S"], item["failure_reason"]["S"]) == ("failed", "MessageRejected")
    assert "lc#post-purchase-nps" not in table.get("CUST#C-100234", "PROFILE")
