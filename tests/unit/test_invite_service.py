import copy
import email
import re
from datetime import timedelta
from email import policy

import pytest

from npsloop.domain.invitations import InvitationStatus
from npsloop.services.invite import CLAIM_LEASE, InvitationInFlight
from tests.conftest import at_once


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def test_an_order_event_sends_one_personalised_email_with_one_click_links(invite, mailer, store, event):
    outcomes = invite.accept(event("order-completed.json"))

    assert [o.result for o in outcomes] == ["sent"]
    message = parsed(mailer.sent[0].raw)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert message["To"] == "jane.doe@example.com"
    assert message["Subject"] == "How was your order from Acme?"
    assert message["From"] == "Acme customer feedback <surveys@example.com>"
    assert "Hello Jane," in text
    assert len(re.findall(r"https://surveys\.example\.com/r/[^\s?]+\?score=\d+", text)) == 11
    assert html.count("?score=") == 11
    assert message["List-Unsubscribe"].startswith("<https://surveys.example.com/u/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    stored = store.invitations[outcomes[0].invitation_id]
    assert stored.status is InvitationStatus.SENT
    assert stored.message_id == "msg-0001"
    assert (stored.program_version, stored.template_id, stored.template_version) == (3, "survey-invitation", 1)


def test_a_polish_customer_gets_the_email_in_polish_without_the_bare_name(invite, mailer, event):
    invite.accept(event("order-completed-pl.json"))

    message = parsed(mailer.sent[0].raw)
    assert message["Subject"] == "Jak oceniasz zakupy w Acme?"
    assert str(message["From"]) == "Acme – opinie klientów <surveys@example.com>"  # the brand's, per language
    text = message.get_body(("plain",)).get_content()
    assert text.splitlines()[2] == "Dzień dobry,"  # "Dzień dobry Anna," is the wrong case
    assert "Anna" not in text


def test_the_same_event_twice_gives_one_invitation_and_one_email(invite, mailer, store, event):
    first = invite.accept(event("order-completed.json"))
    second = invite.accept(event("order-completed.json"))

    assert [o.result for o in first + second] == ["sent", "duplicate"]
    assert len(mailer.sent) == 1
    assert len(store.invitations) == 1


def test_the_same_business_fact_under_a_new_event_id_gives_no_second_email(invite, mailer, store, event):
    original = event("order-completed.json")
    redelivered = copy.deepcopy(original)
    redelivered["id"] = "11111111-2222-4333-8444-555555555555"
    redelivered["detail"]["event_id"] = "evt-ord-5531-retry"

    invite.accept(original)
    outcome = invite.accept(redelivered)

    assert outcome[0].result == "duplicate"
    assert len(mailer.sent) == 1
    assert len(store.invitations) == 1


def test_five_concurrent_deliveries_give_one_email(invite, mailer, store, event):
    outcomes, errors = at_once(5, lambda: invite.accept(event("order-completed.json")))
    results = [outcome for batch in outcomes for outcome in batch]
    assert all(isinstance(error, InvitationInFlight) for error in errors)
    # Deliveries that met an unexpired claim fail (so Lambda retries them); the retries find the email sent.
    retried = [invite.accept(event("order-completed.json")) for _ in errors]

    assert len(mailer.sent) == 1
    assert len(store.invitations) == 1
    assert sum(o.result == "sent" for o in results) == 1
    assert all(o[0].result == "duplicate" for o in retried)


def test_a_delivery_meeting_an_unexpired_claim_asks_for_a_retry(invite, store, event, clock):
    from npsloop.domain.invitations import invitation_id_for
    from npsloop.services.invite import _invitation

    program = invite._programs.get("post-purchase-nps")
    parsed_event = _parse(event("order-completed.json"))
    invitation_id = invitation_id_for(program.id, parsed_event.business_key)
    pending = _invitation(program, parsed_event, invitation_id, clock.now(), InvitationStatus.PENDING)
    store.claim(pending, "other-delivery", clock.now() + CLAIM_LEASE, clock.now() - timedelta(days=90))

    with pytest.raises(InvitationInFlight):
        invite.accept(event("order-completed.json"))


def test_a_claim_abandoned_by_a_crashed_delivery_is_never_taken_over_and_the_sweep_fails_it(
    invite, sweep, mailer, store, event, clock
):
    from npsloop.domain.invitations import UNCONFIRMED_SEND, invitation_id_for
    from npsloop.services.invite import _invitation

    program = invite._programs.get("post-purchase-nps")
    parsed_event = _parse(event("order-completed.json"))
    invitation_id = invitation_id_for(program.id, parsed_event.business_key)
    pending = _invitation(program, parsed_event, invitation_id, clock.now(), InvitationStatus.PENDING)
    store.claim(pending, "crashed-delivery", clock.now() + CLAIM_LEASE, clock.now() - timedelta(days=90))
    clock.advance(CLAIM_LEASE + timedelta(seconds=1))

    with pytest.raises(InvitationInFlight):  # it may have been sent: a late delivery never sends again
        invite.accept(event("order-completed.json"))
    assert sweep.sweep() == {"settled": 1}
    redriven = invite.accept(event("order-completed.json"))
    another_order = event("order-completed.json")
    another_order["detail"]["order_id"] = "ORD-2026-8888"
    next_order = invite.accept(another_order)

    assert mailer.sent[0].tags["invitation"] != invitation_id
    assert len(mailer.sent) == 1
    failed = store.invitations[invitation_id]
    assert (failed.status, failed.failure_reason) == (InvitationStatus.FAILED, UNCONFIRMED_SEND)
    assert redriven[0].result == "duplicate"
    assert next_order[0].result == "sent"  # the unconfirmed invitation no longer blocks the customer


def test_no_email_consent_is_skipped_and_recorded(invite, mailer, store, event):
    outcome = invite.accept(event("order-completed-no-consent.json"))

    assert (outcome[0].result, outcome[0].reason) == ("skipped", "no_email_consent")
    assert mailer.sent == []
    assert store.invitations[outcome[0].invitation_id].skip_reason == "no_email_consent"


def test_a_suppressed_address_is_skipped(invite, mailer, store, event):
    from npsloop.domain.invitations import address_key

    store.suppressed_addresses.add(address_key("Jane.Doe@example.com"))

    outcome = invite.accept(event("order-completed.json"))

    assert outcome[0].reason == "suppressed"
    assert mailer.sent == []


def test_an_unsubscribed_customer_is_skipped(invite, mailer, store, event, clock):
    store.unsubscribe_email("C-100234", clock.now())

    outcome = invite.accept(event("order-completed.json"))

    assert outcome[0].reason == "unsubscribed"
    assert mailer.sent == []


def test_a_second_order_within_the_recontact_window_is_skipped_and_after_it_is_sent(invite, mailer, event, clock):
    first = event("order-completed.json")
    second = copy.deepcopy(first)
    second["detail"]["order_id"] = "ORD-2026-6000"
    third = copy.deepcopy(first)
    third["detail"]["order_id"] = "ORD-2026-7000"

    invite.accept(first)
    clock.advance(timedelta(days=89))
    within = invite.accept(second)
    clock.advance(timedelta(days=2))
    after = invite.accept(third)

    assert within[0].reason == "recontact_window"
    assert after[0].result == "sent"
    assert len(mailer.sent) == 2


def test_an_event_not_sampled_is_skipped_with_that_reason(invite, mailer, event):
    base = event("store-visit-recorded.json")
    outcomes = []
    for n in range(40):
        visit = copy.deepcopy(base)
        visit["detail"]["visit_id"] = f"VIS-{n}"
        visit["detail"]["customer"]["id"] = f"C-{n}"
        outcomes.append(invite.accept(visit)[0])

    not_sampled = [o for o in outcomes if o.reason == "not_sampled"]
    sent = [o for o in outcomes if o.result == "sent"]
    assert not_sampled and sent
    assert len(sent) == len(mailer.sent)


def test_an_invalid_event_is_parked_with_its_reason_and_nothing_is_sent(invite, mailer, store, parking, event):
    outcome = invite.accept(event("invalid-order-completed.json"))

    assert outcome[0].result == "parked"
    assert mailer.sent == [] and store.invitations == {}
    ((parked_event, reason),) = parking.parked
    assert parked_event["id"] == "e0e0e0e0-1111-4222-8333-444455556666"
    assert "customer.id: Field required" in reason
    assert "not-an-address" not in reason  # reasons name fields, never echo personal data


def test_an_envelope_that_is_not_eventbridge_is_parked(invite, parking):
    outcome = invite.accept({"hello": "world"})

    assert outcome[0].result == "parked"
    assert "detail-type" in parking.parked[0][1] or "detail_type" in parking.parked[0][1]


def test_an_event_no_program_wants_is_ignored(invite, mailer, event):
    envelope = event("order-completed.json")
    envelope["detail"]["context"]["channel"] = "phone"

    assert invite.accept(envelope)[0].result == "no_program"
    assert mailer.sent == []


def _parse(envelope):
    from npsloop.domain.events import parse_business_event

    return parse_business_event(envelope["detail-type"], envelope["detail"])


def test_a_message_the_provider_refuses_for_good_is_marked_failed_and_frees_the_ledger(
    invite, mailer, store, event, clock
):
    mailer.reject_with = "MessageRejected"
    refused = invite.accept(event("order-completed.json"))
    mailer.reject_with = None
    later = event("order-completed.json")
    later["detail"]["order_id"] = "ORD-2026-7777"
    clock.advance(timedelta(days=1))

    retried = invite.accept(later)

    assert (refused[0].result, refused[0].reason) == ("failed", "MessageRejected")
    assert store.invitations[refused[0].invitation_id].status is InvitationStatus.FAILED
    assert retried[0].result == "sent"  # the failed attempt did not count as contact
    assert len(mailer.sent) == 1
