"""The alert email a store manager reads on a phone: one per answer and recipient, naming every rule
that fired, in the recipient's language, with the comment as written and its keywords marked."""

from __future__ import annotations

import email
import tomllib
from email import policy

import pytest

from npsloop.domain.alerts import (
    DEFAULT_ROUTING_FILE,
    AlertConfigError,
    keyword_spans,
    load_alert_rules,
    load_routing,
    parse_routing,
)
from npsloop.domain.brand import load_brand
from npsloop.notices import MailSender, Notifier
from npsloop.services.alert import AlertService
from tests.fakes import ListParking, RecordingMailer
from tests.fakes_cases import InMemoryCases, RecordingBus, RecordingTopic, response_image, stream_record
from tests.stream_records import batch

BASE = "https://feedback.example.com"


def service(clock, routing=None):
    store, topic, mailer = InMemoryCases(), RecordingTopic(), RecordingMailer()
    alert = AlertService(
        rules=load_alert_rules(),
        routing=routing or load_routing(),
        claims=store,
        windows=store,
        cases=store,
        contacts=store,
        digests=store,
        notifier=Notifier(topic, mailer, MailSender("alerts@example.com", "npsloop"), load_brand()),
        bus=RecordingBus(),
        parking=ListParking(),
        public_base_url=BASE,
        clock=clock,
    )
    return alert, topic, mailer


def parsed(mail):
    message = email.message_from_bytes(mail.raw, policy=policy.default)
    return message, message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


ANGRY = "Chcę ZWROT pieniędzy. Rezygnuję! <b>nigdy</b>"


def test_one_answer_that_fires_three_rules_gives_one_email_naming_all_three_and_three_sns_messages(clock):
    # GIVEN a VIP detractor whose comment has keywords, at a store that routes to SNS and email
    alert, topic, mailer = service(clock)
    records = batch(stream_record(response_image("inv-1", score=1, comment=ANGRY, vip=True, store="KRK-02")))

    # WHEN the record arrives, and again (stream redelivery)
    alert.handle(records)
    alert.handle(records)

    # THEN subscribers still get one SNS message per rule, the store owner one email naming them all
    assert sorted(m.attributes["rule"] for m in topic.messages) == ["comment-keyword", "detractor", "vip-not-promoter"]
    (mail,) = mailer.sent
    message, text, _ = parsed(mail)
    assert message["To"] == "ewa.mazur@example.com"
    assert "Niska ocena (krytyk)" in text
    assert "Słowa w komentarzu: „ZWROT pieniędzy”, „Rezygnuję”" in text
    assert "Klient VIP, który nie jest promotorem" in text


def test_a_changed_answer_that_still_alerts_gives_one_more_email_with_the_new_score(clock):
    alert, _, mailer = service(clock)
    first = response_image("inv-1", score=5, comment="Kolejka", store="KRK-02")
    changed = response_image("inv-1", score=2, comment="Kolejka i bałagan", store="KRK-02", version=2)

    alert.handle(batch(stream_record(first)))
    alert.handle(batch(stream_record(changed, old=first)))
    alert.handle(batch(stream_record(changed, old=first)))  # redelivered

    assert len(mailer.sent) == 2
    assert "2 na 10 (NPS)" in parsed(mailer.sent[1])[1]


def test_the_email_marks_the_keywords_in_their_original_spelling_and_escapes_the_rest(clock):
    alert, _, mailer = service(clock)
    alert.handle(batch(stream_record(response_image("inv-1", score=1, comment=ANGRY, store="KRK-02"))))

    _, _, html = parsed(mailer.sent[0])
    assert ">ZWROT pieniędzy</mark>" in html
    assert ">Rezygnuję</mark>" in html
    assert "&lt;b&gt;nigdy&lt;/b&gt;" in html
    assert "<b>nigdy" not in html


def test_the_email_is_in_the_recipients_language_with_the_due_time_in_the_stores_time_zone(clock):
    # GIVEN a routing where a London store emails its owner
    raw = tomllib.loads(DEFAULT_ROUTING_FILE.read_text(encoding="utf-8"))
    raw["store"].append(
        {"id": "LDN-01", "region": "london", "channel": "email", "owner": {"id": "u-sam", "email": "sam@example.com"}}
    )
    alert, _, mailer = service(clock, parse_routing(raw))

    # WHEN a detractor answers there (Friday 20 Nov 2026, 10:30 UTC)
    alert.handle(batch(stream_record(response_image("inv-9", score=2, store="LDN-01", region="london"))))

    # THEN the email is English and the case is due by the London clock (16 working hours: Tuesday)
    message, text, html = parsed(mailer.sent[0])
    assert message["Subject"] == "Important: score 2/10 at LDN-01"
    assert "Contact the customer by: Tue 24 Nov 2026, 10:30 (GMT)" in text
    assert f'href="{BASE}/cases/inv-9"' in html
    assert '<html lang="en">' in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html


def test_a_polish_store_gets_the_email_in_polish(clock):
    alert, _, mailer = service(clock)
    alert.handle(batch(stream_record(response_image("inv-2", score=2, store="KRK-02", region="malopolskie"))))

    message, text, html = parsed(mailer.sent[0])
    assert message["Subject"] == "Ważne: ocena 2/10 – KRK-02"
    assert "Kontakt z klientem do: wt. 24.11.2026, 11:30 (CET)" in text
    assert '<html lang="pl">' in html


def test_a_routing_language_outside_the_templates_is_refused_naming_the_field():
    raw = tomllib.loads(DEFAULT_ROUTING_FILE.read_text(encoding="utf-8"))
    raw["region"][0]["language"] = "de"

    with pytest.raises(AlertConfigError, match=r"region\[0\]\.language"):
        parse_routing(raw)


@pytest.mark.parametrize(
    ("comment", "keywords", "marked"),
    [
        ("Żądam ZWROTU. Zwrot pieniędzy!", ("zwrot pieniedzy",), ["Zwrot pieniędzy"]),
        ("REZYGNUJĘ, rezygnuje", ("rezygnuje",), ["REZYGNUJĘ", "rezygnuje"]),
        ("Straße fraud", ("fraud",), ["fraud"]),  # a character that folds to two keeps the offsets right
        ("zwrot\n  pieniędzy", ("zwrot pieniedzy",), ["zwrot\n  pieniędzy"]),
    ],
)
def test_keyword_spans_keep_the_original_text(comment, keywords, marked):
    parts = keyword_spans(comment, keywords)

    assert "".join(text for text, _ in parts) == comment
    assert [text for text, hit in parts if hit] == marked
