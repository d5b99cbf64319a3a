import email
from datetime import UTC, datetime
from email import policy

import pytest

from npsloop.domain.brand import load_brand
from npsloop.domain.surveys import SurveyType
from npsloop.rendering import build_mime, render_invitation, render_page

EXPIRES = datetime(2026, 12, 20, 23, 30, tzinfo=UTC)


def invitation_email(**overrides):
    args = {
        "template_id": "survey-invitation",
        "template_version": 1,
        "locale": "en",
        "survey_type": SurveyType.NPS,
        "first_name": "Jane",
        "subject": "How was your order?",
        "question": "How likely are you to recommend us?",
        "intro": "Thank you for your order.",
        "respond_url": "https://s.example.com/r/tok",
        "unsubscribe_url": "https://s.example.com/u/utok",
        "expires_at": EXPIRES,
        "time_zone": "Europe/Warsaw",
        "brand": load_brand(),
    }
    return render_invitation(**{**args, **overrides})


@pytest.mark.parametrize(("survey", "scores"), [(SurveyType.NPS, 11), (SurveyType.CSAT, 5), (SurveyType.CES, 7)])
def test_the_email_carries_one_link_per_point_of_the_scale(survey, scores):
    rendered = invitation_email(survey_type=survey)

    assert rendered.text.count("https://s.example.com/r/tok?score=") == scores
    assert rendered.html.count('href="https://s.example.com/r/tok?score=') == scores


def test_the_expiry_date_is_shown_in_the_customers_time_zone_and_language():
    polish = invitation_email(locale="pl", time_zone="Europe/Warsaw")
    english = invitation_email(locale="en", time_zone="America/New_York")

    assert "Link działa do 21.12.2026." in polish.text  # 23:30 UTC is past midnight in Warsaw
    assert "This link is valid until 20 Dec 2026." in english.text


def test_a_name_with_markup_is_escaped_in_html_and_left_literal_in_text():
    rendered = invitation_email(first_name="<b>Jane</b> & co")

    assert "Hello &lt;b&gt;Jane&lt;/b&gt; &amp; co," in rendered.html
    assert "Hello <b>Jane</b> & co," in rendered.text


def test_the_mime_message_has_both_parts_and_rfc8058_headers_kept_literal():
    rendered = invitation_email(unsubscribe_url="https://s.example.com/u/" + "x" * 120)

    raw = build_mime(
        sender="surveys@example.com",
        sender_name="Acme Surveys",
        recipient="jane@example.com",
        email=rendered,
        unsubscribe_url="https://s.example.com/u/" + "x" * 120,
    )
    message = email.message_from_bytes(raw, policy=policy.default)

    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert b"List-Unsubscribe: <https://s.example.com/u/" + b"x" * 120 + b">" in raw
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["From"] == "Acme Surveys <surveys@example.com>"


def test_pages_are_in_the_requested_language_and_usable_on_a_phone():
    page = render_page("unsubscribe", "pl", action="tok")

    assert '<html lang="pl">' in page
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert "Wypisz mnie" in page
    assert "<script" not in page  # works without JavaScript
