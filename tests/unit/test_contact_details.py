"""The customer's contact details for a call back: kept beside the invitation until its link expires,
copied onto the case when it opens, in the owner's alert email only, dropped when the case closes."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy

from npsloop.domain.alerts import load_alert_rules, load_routing
from npsloop.domain.brand import load_brand
from npsloop.domain.cases import CaseStatus
from npsloop.domain.contact import CustomerContact
from npsloop.notices import MailSender, Notice, Notifier
from npsloop.services.alert import AlertService
from tests.fakes import ListParking, RecordingMailer
from tests.fakes_cases import InMemoryCases, RecordingBus, RecordingTopic, response_image, stream_record
from tests.stream_records import batch

PHONE = "+48601234567"


def test_a_phone_number_is_shown_as_people_read_it_and_linked_as_tel():
    contact = CustomerContact(phone=PHONE, email="anna@example.com")

    assert contact.phone_display == "+48 601 234 567"
    assert contact.tel_uri == "tel:+48601234567"
    assert contact.mailto_uri == "mailto:anna@example.com"
    assert CustomerContact(phone="+447700900123").phone_display == "+44 7700 900123"
    assert CustomerContact().empty


def test_the_invitation_keeps_the_contact_beside_it_until_its_link_expires_and_not_on_itself(invite, store, event):
    (outcome,) = invite.accept(event("order-completed.json"))

    customer, contact, until = store.contacts[outcome.invitation_id]
    invitation = store.invitations[outcome.invitation_id]
    assert (customer, contact.phone, contact.email) == ("C-100234", "+447700900123", "jane.doe@example.com")
    assert until == invitation.expires_at
    assert "+447700900123" not in invitation.model_dump_json()


def test_a_skipped_invitation_keeps_no_contact(invite, store, event):
    raw = event("order-completed-no-consent.json")

    (outcome,) = invite.accept(raw)

    assert outcome.result == "skipped" and store.contacts == {}


def _service(clock, cases):
    topic, mailer = RecordingTopic(), RecordingMailer()
    alert = AlertService(
        rules=load_alert_rules(),
        routing=load_routing(),
        claims=cases,
        windows=cases,
        cases=cases,
        contacts=cases,
        digests=cases,
        notifier=Notifier(topic, mailer, MailSender("alerts@example.com", "npsloop"), load_brand()),
        bus=RecordingBus(),
        parking=ListParking(),
        public_base_url="https://feedback.example.com",
        clock=clock,
    )
    return alert, topic, mailer


def test_the_case_takes_the_contact_the_owners_email_shows_it_and_the_topic_never_does(clock):
    cases = InMemoryCases()
    cases.contacts["inv-1"] = ("C-inv-1", CustomerContact(phone=PHONE), clock.now() + timedelta(days=30))
    alert, topic, mailer = _service(clock, cases)

    alert.handle(batch(stream_record(response_image("inv-1", score=1, store="KRK-02"))))

    assert cases.cases["inv-1"].contact == CustomerContact(phone=PHONE)
    (mail,) = mailer.sent
    message = email.message_from_bytes(mail.raw, policy=policy.default)
    assert message["To"] == "ewa.mazur@example.com"  # KRK-02's owner: the case's owner
    assert 'href="tel:+48601234567"' in message.get_body(("html",)).get_content()
    assert "Telefon: +48 601 234 567" in message.get_body(("plain",)).get_content()
    assert topic.messages and all(PHONE not in str(m.body) and "contact" not in m.body for m in topic.messages)


def test_an_expired_contact_is_not_copied(clock):
    cases = InMemoryCases()
    cases.contacts["inv-1"] = ("C-inv-1", CustomerContact(phone=PHONE), clock.now() - timedelta(seconds=1))
    alert, _, mailer = _service(clock, cases)

    alert.handle(batch(stream_record(response_image("inv-1", score=1, store="KRK-02"))))

    assert cases.cases["inv-1"].contact is None
    assert "tel:" not in mailer.sent[0].raw.decode()


def test_closing_or_resolving_the_case_drops_the_contact(clock):
    cases = InMemoryCases()
    cases.contacts["inv-1"] = ("C-inv-1", CustomerContact(phone=PHONE), clock.now() + timedelta(days=30))
    alert, _, _ = _service(clock, cases)
    alert.handle(batch(stream_record(response_image("inv-1", score=1, store="KRK-02"))))
    case = cases.cases["inv-1"]
    calendar, causes = load_routing().calendar, load_alert_rules().cases.root_causes
    now = clock.now()

    for status in (CaseStatus.IN_PROGRESS, CaseStatus.CONTACTED):
        case = case.change(actor="u-ewa.mazur", now=now, calendar=calendar, root_causes=causes, status=status)
        assert case.contact is not None
    closed = case.change(actor="u-ewa.mazur", now=now, calendar=calendar, root_causes=causes, status=CaseStatus.CLOSED)

    assert closed.contact is None


def test_a_notice_carrying_the_contact_leaves_it_off_the_sns_message():
    owner = load_routing().fallback.owner
    notice = Notice(
        kind="alert", recipient=owner, severity="high", invitation_id="inv-1", program_id="p",
        survey_type="nps", score=1, customer_id="C-inv-1", context={}, team="cx",
        contact=CustomerContact(phone=PHONE),
    )  # fmt: skip

    body = notice.body()

    assert "contact" not in body and PHONE not in str(body)
