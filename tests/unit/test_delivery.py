"""The delivery area with fakes: parsing both SES formats, and the effects of each report."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime
from email import policy

import pytest

from npsloop.domain.delivery import (
    INVITATION_HEADER,
    BounceType,
    DeliveryFormat,
    DeliveryKind,
    DeliveryStatus,
    UnreadableNotification,
    parse_notification,
    setup_message,
)
from npsloop.domain.invitations import CustomerProfile, address_key
from npsloop.ports.delivery import InvitationNotSettled
from npsloop.services.delivery import DeliveryService
from tests.conftest import load_event
from tests.fakes import ListParking
from tests.fakes_delivery import InMemoryDeliveryStore, ses_fixture, sns_event

INVITATION = "7n5ad3mrkqdfbeobq4p2hkjcxyczhv3n"  # the id in the fixtures' tags and header
MESSAGE_ID = "0102019a3f1c2b4d-5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b-000000"
JANE = address_key("jane.doe@example.com")
CUSTOMER = "C-100234"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# -- parsing: every fixture ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fixture", "kind", "source_format", "timestamp"),
    [
        ("ses-notification-bounce-permanent", DeliveryKind.BOUNCE, DeliveryFormat.NOTIFICATION, "10:30:02.669"),
        ("ses-notification-bounce-transient", DeliveryKind.BOUNCE, DeliveryFormat.NOTIFICATION, "12:31:15.101"),
        ("ses-notification-complaint", DeliveryKind.COMPLAINT, DeliveryFormat.NOTIFICATION, "18:02:41"),
        ("ses-notification-delivery", DeliveryKind.DELIVERY, DeliveryFormat.NOTIFICATION, "10:30:01.873"),
        ("ses-event-send", DeliveryKind.SEND, DeliveryFormat.EVENT_PUBLISHING, "10:30:00.412"),
        ("ses-event-delivery", DeliveryKind.DELIVERY, DeliveryFormat.EVENT_PUBLISHING, "10:30:01.873"),
        ("ses-event-bounce-permanent", DeliveryKind.BOUNCE, DeliveryFormat.EVENT_PUBLISHING, "10:30:02.669"),
        ("ses-event-bounce-transient", DeliveryKind.BOUNCE, DeliveryFormat.EVENT_PUBLISHING, "12:31:15.101"),
        ("ses-event-complaint", DeliveryKind.COMPLAINT, DeliveryFormat.EVENT_PUBLISHING, "18:02:41"),
        ("ses-event-open", DeliveryKind.OPEN, DeliveryFormat.EVENT_PUBLISHING, "11:05:12"),
        ("ses-event-click", DeliveryKind.CLICK, DeliveryFormat.EVENT_PUBLISHING, "11:05:40"),
        ("ses-event-reject", DeliveryKind.REJECT, DeliveryFormat.EVENT_PUBLISHING, "10:30:00.412"),
        ("ses-event-deliverydelay", DeliveryKind.DELIVERY_DELAY, DeliveryFormat.EVENT_PUBLISHING, "10:45:00"),
        ("ses-event-renderingfailure", DeliveryKind.RENDERING_FAILURE, DeliveryFormat.EVENT_PUBLISHING, "10:30:00.412"),
    ],
)
def test_every_fixture_parses_into_one_delivery_event(fixture, kind, source_format, timestamp):
    parsed = parse_notification(json.dumps(ses_fixture(fixture)))

    assert (parsed.kind, parsed.format) == (kind, source_format)
    assert parsed.message_id == MESSAGE_ID
    assert parsed.invitation_id == INVITATION
    assert parsed.timestamp == at(f"2026-11-20T{timestamp}Z")
    assert parsed.sent_at == at("2026-11-20T10:30:00.412Z")
    assert parsed.recipient_keys == (JANE,)
    assert "jane.doe" not in parsed.model_dump_json()  # addresses only as hashes


def test_bounce_details_are_kept_and_only_a_permanent_bounce_suppresses():
    permanent = parse_notification(json.dumps(ses_fixture("ses-notification-bounce-permanent")))
    transient = parse_notification(json.dumps(ses_fixture("ses-event-bounce-transient")))

    assert (permanent.bounce_type, permanent.bounce_sub_type) == (BounceType.PERMANENT, "General")
    assert (transient.bounce_type, transient.bounce_sub_type) == (BounceType.TRANSIENT, "MailboxFull")
    assert permanent.suppresses_address
    assert not transient.suppresses_address


def test_complaint_feedback_type_reject_reason_and_delay_type_are_kept():
    complaint = parse_notification(json.dumps(ses_fixture("ses-notification-complaint")))
    reject = parse_notification(json.dumps(ses_fixture("ses-event-reject")))
    delay = parse_notification(json.dumps(ses_fixture("ses-event-deliverydelay")))

    assert complaint.complaint_feedback_type == "abuse"
    assert complaint.suppresses_address
    assert reject.failure_reason == "reject: Bad content"
    assert delay.delay_type == "MailboxFull"


def test_event_publishing_takes_the_invitation_and_program_from_the_tags():
    document = ses_fixture("ses-event-delivery", headers=[])

    parsed = parse_notification(json.dumps(document))

    assert (parsed.invitation_id, parsed.program_id) == (INVITATION, "post-purchase-nps")


def test_the_notification_format_takes_the_invitation_from_the_header_and_has_no_program():
    parsed = parse_notification(json.dumps(ses_fixture("ses-notification-delivery")))

    assert parsed.invitation_id == INVITATION
    assert parsed.program_id is None


def test_without_tag_or_header_the_invitation_is_unknown():
    parsed = parse_notification(json.dumps(ses_fixture("ses-notification-bounce-permanent", headers=[])))

    assert parsed.invitation_id is None
    assert parsed.recipient_keys == (JANE,)


def test_recipients_named_with_a_display_name_are_hashed_by_their_address():
    document = ses_fixture("ses-event-bounce-permanent")
    document["bounce"]["bouncedRecipients"][0]["emailAddress"] = "Jane Doe <Jane.Doe@Example.com>"

    assert parse_notification(json.dumps(document)).recipient_keys == (JANE,)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not an object"),
        (json.dumps({"eventType": "Subscription", "mail": {}}), "unknown SES event type"),
        (json.dumps({"notificationType": "Send", "mail": {}}), "not one SES sends"),
        (json.dumps({"mail": {}}), "neither eventType nor notificationType"),
        (json.dumps({"eventType": "Bounce"}), "mail: missing"),
        (json.dumps({**ses_fixture("ses-event-bounce-permanent"), "bounce": None}), "bounce: missing"),
    ],
)
def test_unreadable_messages_raise_with_a_reason(message, reason):
    with pytest.raises(UnreadableNotification, match=reason):
        parse_notification(message)


def test_a_missing_field_is_named_without_its_value():
    document = ses_fixture("ses-event-bounce-permanent")
    del document["bounce"]["bounceType"]
    document["bounce"]["bouncedRecipients"][0]["emailAddress"] = 42

    with pytest.raises(UnreadableNotification) as raised:
        parse_notification(json.dumps(document))

    assert "bounceType" in str(raised.value)
    assert "42" not in str(raised.value)


# -- the service with fakes ----------------------------------------------------------------------
@pytest.fixture
def deliveries() -> InMemoryDeliveryStore:
    fake = InMemoryDeliveryStore()
    fake.add_invitation(INVITATION, CUSTOMER)
    return fake


@pytest.fixture
def parking() -> ListParking:
    return ListParking()


@pytest.fixture
def delivery(deliveries, parking) -> DeliveryService:
    return DeliveryService(store=deliveries, parking=parking)


def test_a_delivery_sets_status_and_timestamp(delivery, deliveries):
    (outcome,) = delivery.accept(sns_event(ses_fixture("ses-event-delivery")))

    assert (outcome.result, outcome.invitation_found, outcome.suppressed) == ("recorded", True, 0)
    item = deliveries.invitations[INVITATION]
    assert item["delivery_status"] == "delivered"
    assert item["delivered_at"] == at("2026-11-20T10:30:01.873Z")


def test_a_permanent_bounce_suppresses_the_address_and_marks_the_invitation_bounced(delivery, deliveries):
    delivery.accept(sns_event(ses_fixture("ses-notification-bounce-permanent")))

    item = deliveries.invitations[INVITATION]
    assert (item["delivery_status"], item["bounce_type"], item["bounce_sub_type"]) == (
        "bounced",
        "Permanent",
        "General",
    )
    suppression = deliveries.suppressions[JANE]
    assert suppression["reason"] == "hard_bounce"
    assert suppression["bounce_sub_type"] == "General"
    assert suppression["message_id"] == MESSAGE_ID
    assert suppression["first_seen_at"] == at("2026-11-20T10:30:02.669Z")
    assert deliveries.objections == {}


def test_a_transient_bounce_does_not_suppress(delivery, deliveries):
    (outcome,) = delivery.accept(sns_event(ses_fixture("ses-event-bounce-transient")))

    assert outcome.suppressed == 0
    assert deliveries.suppressions == {}
    assert deliveries.invitations[INVITATION]["delivery_status"] == "soft_bounced"
    assert "bounced_at" not in deliveries.invitations[INVITATION]


@pytest.mark.parametrize("fixture", ["ses-notification-complaint", "ses-event-complaint"])
def test_a_complaint_suppresses_the_address_and_records_an_objection(delivery, deliveries, fixture):
    (outcome,) = delivery.accept(sns_event(ses_fixture(fixture)))

    assert (outcome.suppressed, outcome.objection) == (1, True)
    assert deliveries.suppressions[JANE]["reason"] == "complaint"
    assert deliveries.objections == {CUSTOMER: at("2026-11-20T18:02:41Z")}
    assert deliveries.invitations[INVITATION]["delivery_status"] == "complained"


@pytest.mark.parametrize(
    "fixture", ["ses-notification-complaint-suppression-list", "ses-event-complaint-suppression-list"]
)
def test_a_complaint_from_the_account_suppression_list_suppresses_without_an_objection(delivery, deliveries, fixture):
    # GIVEN SES's own complaint: the address is on the account-level suppression list, nothing was sent
    parsed = parse_notification(json.dumps(ses_fixture(fixture)))
    assert (parsed.complaint_sub_type, parsed.never_sent, parsed.complaint_feedback_type) == (
        "OnAccountSuppressionList",
        True,
        None,
    )

    # WHEN it is handled
    (outcome,) = delivery.accept(sns_event(ses_fixture(fixture)))

    # THEN the address is suppressed, the customer has not objected, and the invitation never went out
    assert (outcome.result, outcome.suppressed, outcome.objection) == ("recorded", 1, False)
    assert deliveries.suppressions[JANE]["reason"] == "account_suppression_list"
    assert deliveries.objections == {}
    item = deliveries.invitations[INVITATION]
    assert (item["delivery_status"], item["delivery_failure"]) == ("failed", "on_account_suppression_list")
    assert "complained_at" not in item


@pytest.mark.parametrize("fixture", ["ses-notification-complaint-not-spam", "ses-event-complaint-not-spam"])
def test_a_not_spam_feedback_report_neither_suppresses_nor_objects(delivery, deliveries, fixture):
    # GIVEN a feedback report whose Feedback-Type is not-spam (RFC 6430: the reporter says it is not spam)
    (outcome,) = delivery.accept(sns_event(ses_fixture(fixture)))

    # THEN nothing stops the next survey, and the invitation is not marked complained
    assert (outcome.result, outcome.suppressed, outcome.objection) == ("recorded", 0, False)
    assert deliveries.suppressions == {} and deliveries.objections == {}
    item = deliveries.invitations[INVITATION]
    assert "delivery_status" not in item and "complained_at" not in item
    assert item["reported_not_spam_at"] == at("2026-11-21T08:12:09Z")


def test_a_not_spam_report_after_a_complaint_leaves_the_complaint_standing(delivery, deliveries):
    delivery.accept(sns_event(ses_fixture("ses-event-complaint")))
    delivery.accept(sns_event(ses_fixture("ses-event-complaint-not-spam")))

    assert deliveries.suppressions[JANE]["reason"] == "complaint"
    assert CUSTOMER in deliveries.objections
    assert deliveries.invitations[INVITATION]["delivery_status"] == "complained"


# -- SES and SNS setting the topic up --------------------------------------------------------------
SETUP_MESSAGES = {
    "ses_event_publishing_validated": sns_event("Successfully validated SNS topic for Amazon SES event publishing."),
    "ses_subscription_succeeded": sns_event(load_event("ses-subscription-succeeded.json")),
    "sns_subscription_confirmation": load_event("sns-subscription-confirmation.json"),
}


@pytest.mark.parametrize(("setup", "raw"), SETUP_MESSAGES.items(), ids=list(SETUP_MESSAGES))
def test_setup_messages_are_recognised(setup, raw):
    sns = raw["Records"][0]["Sns"]

    assert setup_message(sns["Type"], sns["Message"]) == setup


@pytest.mark.parametrize(
    "message",
    [
        json.dumps(ses_fixture("ses-event-delivery")),
        "{not json",
        "Successfully validated SNS topic for Amazon SES event publishing. Or not.",
        json.dumps({"notificationType": "Bounce", "note": "AmazonSnsSubscriptionSucceeded"}),
    ],
)
def test_reports_and_garbage_are_not_setup_messages(message):
    assert setup_message("Notification", message) is None


@pytest.mark.parametrize(("setup", "raw"), SETUP_MESSAGES.items(), ids=list(SETUP_MESSAGES))
def test_a_setup_message_is_ignored_not_parked(delivery, deliveries, parking, setup, raw):
    (outcome,) = delivery.accept(raw)

    assert (outcome.result, outcome.reason) == ("ignored", setup)
    assert parking.parked == []
    assert deliveries.suppressions == {} and "delivery_status" not in deliveries.invitations[INVITATION]


def test_replaying_every_report_twice_leaves_the_same_state(deliveries, parking):
    reports = [
        "ses-event-send",
        "ses-event-delivery",
        "ses-event-bounce-permanent",
        "ses-event-complaint",
        "ses-event-open",
    ]
    once, twice = InMemoryDeliveryStore(), InMemoryDeliveryStore()
    for fake in (once, twice):
        fake.add_invitation(INVITATION, CUSTOMER)
    DeliveryService(store=once, parking=parking).accept(sns_event(*(ses_fixture(r) for r in reports)))
    replayed = DeliveryService(store=twice, parking=parking)
    replayed.accept(sns_event(*(ses_fixture(r) for r in reports)))
    replayed.accept(sns_event(*(ses_fixture(r) for r in reports)))

    assert twice.invitations == once.invitations
    assert twice.suppressions == once.suppressions
    assert twice.objections == once.objections
    assert parking.parked == []


def test_out_of_order_reports_end_in_the_highest_ranked_status(delivery, deliveries):
    delivery.accept(sns_event(ses_fixture("ses-event-complaint")))
    delivery.accept(sns_event(ses_fixture("ses-event-delivery")))
    delivery.accept(sns_event(ses_fixture("ses-event-send")))

    item = deliveries.invitations[INVITATION]
    assert item["delivery_status"] == "complained"
    assert item["delivered_at"] == at("2026-11-20T10:30:01.873Z")  # the late delivery still adds its time


def test_status_precedence():
    order = [DeliveryStatus.SENT, DeliveryStatus.DELAYED, DeliveryStatus.DELIVERED]
    order += [DeliveryStatus.BOUNCED, DeliveryStatus.COMPLAINED]
    assert [s.rank for s in order] == sorted(s.rank for s in order)


def test_open_and_click_record_timestamps_only(delivery, deliveries):
    delivery.accept(sns_event(ses_fixture("ses-event-open"), ses_fixture("ses-event-click")))

    item = deliveries.invitations[INVITATION]
    assert "delivery_status" not in item
    assert item["opened_at"] == at("2026-11-20T11:05:12Z")
    assert item["clicked_at"] == at("2026-11-20T11:05:40Z")


@pytest.mark.parametrize("fixture", ["ses-event-reject", "ses-event-renderingfailure"])
def test_reject_and_rendering_failure_mark_the_invitation_failed_to_deliver(delivery, deliveries, fixture):
    delivery.accept(sns_event(ses_fixture(fixture)))

    item = deliveries.invitations[INVITATION]
    assert item["delivery_status"] == "failed"
    assert item["delivery_failure"] in {"reject: Bad content", "rendering_failure"}
    assert deliveries.suppressions == {}


def test_a_bounce_without_invitation_still_suppresses_the_address(delivery, deliveries):
    (outcome,) = delivery.accept(sns_event(ses_fixture("ses-notification-bounce-permanent", headers=[])))

    assert (outcome.invitation_id, outcome.invitation_found) == (None, False)
    assert JANE in deliveries.suppressions


def test_a_complaint_for_an_unknown_invitation_suppresses_without_objection(delivery, deliveries):
    deliveries.invitations.clear()

    (outcome,) = delivery.accept(sns_event(ses_fixture("ses-event-complaint")))

    assert (outcome.invitation_found, outcome.suppressed, outcome.objection) == (False, 1, False)
    assert deliveries.objections == {}


def test_a_report_for_a_pending_invitation_raises_so_lambda_retries(delivery, deliveries):
    deliveries.add_invitation(INVITATION, CUSTOMER, status="pending")

    with pytest.raises(InvitationNotSettled):
        delivery.accept(sns_event(ses_fixture("ses-event-delivery")))


@pytest.mark.parametrize(
    "event",
    [
        sns_event("{not json"),
        sns_event(json.dumps({"eventType": "Subscription", "mail": {}})),
        sns_event(json.dumps({"eventType": "Bounce", "mail": {"messageId": "x"}})),
        {"Records": [{"EventSource": "aws:sns"}]},
        {"detail": "not sns"},
    ],
    ids=["malformed", "unknown-type", "missing-fields", "no-message", "not-sns"],
)
def test_unreadable_input_is_parked_with_a_reason_not_raised(delivery, deliveries, parking, event):
    (outcome,) = delivery.accept(event)

    assert outcome.result == "parked"
    ((_payload, reason),) = parking.parked
    assert reason == outcome.reason
    assert reason
    assert deliveries.suppressions == {}
    assert "delivery_status" not in deliveries.invitations[INVITATION]


def test_one_bad_record_does_not_stop_the_others(delivery, deliveries, parking):
    outcomes = delivery.accept(sns_event("{not json", ses_fixture("ses-event-bounce-permanent")))

    assert [o.result for o in outcomes] == ["parked", "recorded"]
    assert JANE in deliveries.suppressions
    assert len(parking.parked) == 1


# -- the front half's side: eligibility and the header -------------------------------------------
def test_a_customer_who_objected_is_skipped(invite, mailer, store, event, clock):
    store.profiles["C-100234"] = CustomerProfile(customer_id="C-100234", objected_at=clock.now())

    outcome = invite.accept(event("order-completed.json"))

    assert outcome[0].reason == "objected"
    assert mailer.sent == []


def test_the_invitation_email_carries_its_id_in_a_header_and_a_tag(invite, mailer, event):
    (outcome,) = invite.accept(event("order-completed.json"))

    message = email.message_from_bytes(mailer.sent[0].raw, policy=policy.default)
    assert message[INVITATION_HEADER] == outcome.invitation_id
    assert mailer.sent[0].tags["invitation"] == outcome.invitation_id


def test_the_sns_wrapper_is_a_lambda_sns_event():
    from aws_lambda_powertools.utilities.parser.models import SnsModel

    parsed = SnsModel.model_validate(sns_event(ses_fixture("ses-event-send"), ses_fixture("ses-event-delivery")))

    assert [json.loads(r.Sns.Message)["eventType"] for r in parsed.Records] == ["Send", "Delivery"]
