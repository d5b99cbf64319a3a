"""The delivery function behind the local stack: SES events (emulated) -> SNS -> DeliveryFunction."""

from __future__ import annotations

import copy
import json

from npsloop.domain.invitations import address_key
from tests.fakes_delivery import ses_fixture, sns_event

BOUNCE = "bounce@simulator.amazonses.com"
COMPLAINT = "complaint@simulator.amazonses.com"


def order(event, email: str, order_id: str = "ORD-2026-5531", customer_id: str = "C-100234") -> dict:
    payload = copy.deepcopy(event("order-completed.json"))
    payload["id"] = f"evt-{order_id}"
    payload["detail"]["event_id"] = f"evt-{order_id}"
    payload["detail"]["order_id"] = order_id
    payload["detail"]["customer"]["email"] = email
    payload["detail"]["customer"]["id"] = customer_id
    return payload


def invite(stack, payload) -> dict:
    (outcome,) = stack.invoke("InviteFunction", payload)["outcomes"]
    return outcome


def test_a_hard_bounce_suppresses_the_address_and_the_next_invitation_is_skipped(stack, table, event):
    first = invite(stack, order(event, BOUNCE))
    stack.drain()

    suppression = table.get(f"SUPP#{address_key(BOUNCE)}", "EMAIL")
    assert suppression is not None
    assert suppression["reason"]["S"] == "hard_bounce"
    assert suppression["bounce_sub_type"]["S"] == "General"
    assert suppression["message_id"]["S"]
    assert BOUNCE not in json.dumps(suppression)  # the address only as its hash
    invitation = table.get(f"INV#{first['invitation_id']}", "INVITATION")
    assert invitation["delivery_status"]["S"] == "bounced"
    assert invitation["bounce_type"]["S"] == "Permanent"
    assert "bounced_at" in invitation

    second = invite(stack, order(event, BOUNCE, order_id="ORD-2026-7777", customer_id="C-200345"))
    assert (second["result"], second["reason"]) == ("skipped", "suppressed")
    assert stack.dead_letters("DeliveryDeadLetterQueue") == []


def test_a_normal_send_is_marked_delivered(stack, table, event):
    sent = invite(stack, order(event, "jane.doe@example.com"))
    stack.drain()

    invitation = table.get(f"INV#{sent['invitation_id']}", "INVITATION")
    assert invitation["delivery_status"]["S"] == "delivered"
    assert "delivered_at" in invitation
    assert table.items("suppression") == []


def test_a_complaint_suppresses_and_records_an_objection_so_the_customer_is_not_asked_again(stack, table, event):
    sent = invite(stack, order(event, COMPLAINT, customer_id="C-300456"))
    stack.drain()

    profile = table.get("CUST#C-300456", "PROFILE")
    assert "objected_at" in profile
    assert table.get(f"SUPP#{address_key(COMPLAINT)}", "EMAIL")["reason"]["S"] == "complaint"
    invitation = table.get(f"INV#{sent['invitation_id']}", "INVITATION")
    assert invitation["delivery_status"]["S"] == "complained"
    assert "delivered_at" in invitation and "complained_at" in invitation

    # The next order, from a new address: the objection (checked before the recontact window) stops it.
    later = invite(stack, order(event, "new.address@example.com", order_id="ORD-2026-8888", customer_id="C-300456"))
    assert (later["result"], later["reason"]) == ("skipped", "objected")


def test_a_malformed_sns_message_is_parked_in_the_delivery_dlq(stack, table):
    result = stack.invoke("DeliveryFunction", sns_event("{not json"))

    assert [o["result"] for o in result["outcomes"]] == ["parked"]
    (parked,) = stack.dead_letters("DeliveryDeadLetterQueue")
    assert parked["Sns"]["Message"] == "{not json"


def test_replaying_the_same_sns_event_changes_nothing(stack, table, event):
    sent = invite(stack, order(event, "jane.doe@example.com"))
    stack.drain()
    bounce = ses_fixture("ses-event-bounce-permanent")
    bounce["mail"]["tags"]["invitation"] = [sent["invitation_id"]]
    replayed = sns_event(bounce)

    stack.invoke("DeliveryFunction", replayed)
    before = sorted(json.dumps(item, sort_keys=True) for item in table.items())
    stack.invoke("DeliveryFunction", replayed)
    after = sorted(json.dumps(item, sort_keys=True) for item in table.items())

    assert after == before
    assert table.get(f"INV#{sent['invitation_id']}", "INVITATION")["delivery_status"]["S"] == "bounced"


def test_each_email_gets_one_report_per_recipient(stack, event):
    sqs, sns = stack.client("sqs"), stack.client("sns")
    url = sqs.create_queue(QueueName="ses-reports-spy")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=stack.outputs["SesNotificationsTopicArn"], Protocol="sqs", Endpoint=arn)

    invite(stack, order(event, "jane@example.com"))
    stack.drain()

    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [json.loads(json.loads(m["Body"])["Message"]) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )
    assert [body["eventType"] for body in bodies] == ["Delivery"]


def test_ses_event_publishings_validation_message_is_ignored_not_parked(stack, table):
    # GIVEN the plain-text message SES publishes when a configuration set's destination is the topic
    result = stack.invoke(
        "DeliveryFunction", sns_event("Successfully validated SNS topic for Amazon SES event publishing.")
    )

    assert [(o["result"], o["reason"]) for o in result["outcomes"]] == [("ignored", "ses_event_publishing_validated")]
    assert stack.dead_letters("DeliveryDeadLetterQueue") == []
    assert table.items("suppression") == []


def test_ses_subscription_succeeded_is_ignored_not_parked(stack, event):
    # GIVEN SES's notice that an identity's feedback notifications now go to the topic
    result = stack.invoke("DeliveryFunction", sns_event(event("ses-subscription-succeeded.json")))

    assert [(o["result"], o["reason"]) for o in result["outcomes"]] == [("ignored", "ses_subscription_succeeded")]
    assert stack.dead_letters("DeliveryDeadLetterQueue") == []


def test_an_sns_subscription_confirmation_is_ignored_not_parked(stack, event):
    result = stack.invoke("DeliveryFunction", event("sns-subscription-confirmation.json"))

    assert [(o["result"], o["reason"]) for o in result["outcomes"]] == [("ignored", "sns_subscription_confirmation")]
    assert stack.dead_letters("DeliveryDeadLetterQueue") == []
