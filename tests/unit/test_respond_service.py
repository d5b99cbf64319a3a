import html as htmllib
import re
from datetime import timedelta

import pytest

from npsloop.domain.links import ExpiredLink, InvalidLink, LinkPurpose, sign
from npsloop.services.respond import MalformedForm, UnknownInvitation, parse_form, preferred_locale


@pytest.fixture
def sent(invite, event):
    """An invitation that was really sent, and its response and unsubscribe tokens."""
    outcome = invite.accept(event("order-completed.json"))[0]
    return outcome.invitation_id


def tokens(keys, store, invitation_id):
    invitation = store.invitations[invitation_id]
    respond = sign(keys.keys, LinkPurpose.RESPOND, invitation_id, invitation.expires_at)
    unsubscribe = sign(keys.keys, LinkPurpose.UNSUBSCRIBE, invitation_id, invitation.expires_at)
    return respond, unsubscribe


def test_the_confirmation_page_preselects_the_clicked_score_and_writes_nothing(respond, store, keys, sent):
    token, _ = tokens(keys, store, sent)
    writes_before = store.writes

    page = respond.confirmation_page(token, "7", action=token)

    assert page.status == 200
    assert re.search(r'value="7" checked', page.html)
    assert page.html.count(" checked") == 1
    assert '<textarea id="comment" name="comment"' in page.html
    assert store.writes == writes_before
    assert store.responses == {}


def test_posting_the_form_stores_one_response_and_resubmitting_updates_it(respond, store, keys, sent, clock):
    token, _ = tokens(keys, store, sent)

    first = respond.submit(token, "score=6&comment=Late+delivery", action=token)
    clock.advance(timedelta(days=2))
    second = respond.submit(token, "score=9&comment=", action=token)

    assert first.status == second.status == 200
    stored = store.responses[sent]
    assert (stored.score, stored.comment, stored.version) == (9, None, 2)
    assert stored.created_at < stored.updated_at
    assert len(store.responses) == 1
    assert stored.context["store"] == "online-uk"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("score=11", "from 0 to 10"),
        ("score=-1", "from 0 to 10"),
        ("score=abc", "from 0 to 10"),
        ("score=7.5", "from 0 to 10"),
        ("score=--1", "from 0 to 10"),
        ("score=%C2%B2", "from 0 to 10"),  # superscript two: a digit to str.isdigit, not a score
        ("score=", "please choose a score"),
        ("comment=hi", "please choose a score"),
    ],
)
def test_an_invalid_score_is_refused_with_the_reason_and_nothing_is_stored(respond, store, keys, sent, body, reason):
    token, _ = tokens(keys, store, sent)

    page = respond.submit(token, body, action=token)

    assert page.status == 422
    assert '<p class="error" role="alert">' in page.html
    assert reason in page.html
    assert store.responses == {}


def test_a_2000_character_comment_of_four_byte_characters_is_accepted(respond, store, keys, sent):
    token, _ = tokens(keys, store, sent)
    comment = "😀" * 2000

    page = respond.submit(token, "score=9&comment=" + "%F0%9F%98%80" * 2000, action=token)

    assert page.status == 200
    assert store.responses[sent].comment == comment


def test_an_out_of_range_score_in_the_link_gets_a_4xx_with_the_reason(respond, store, keys, sent):
    token, _ = tokens(keys, store, sent)

    page = respond.confirmation_page(token, "42", action=token)

    assert page.status == 422
    assert "from 0 to 10" in page.html


def test_a_comment_over_2000_characters_is_refused(respond, store, keys, sent):
    token, _ = tokens(keys, store, sent)

    page = respond.submit(token, "score=5&comment=" + "x" * 2001, action=token)

    assert page.status == 422
    assert "at most 2000 characters" in page.html
    assert store.responses == {}


def test_a_comment_holding_script_is_escaped_on_the_thanks_page(respond, store, keys, sent):
    token, _ = tokens(keys, store, sent)
    comment = '<script>alert("x")</script>'

    page = respond.submit(token, "score=3&comment=%3Cscript%3Ealert(%22x%22)%3C%2Fscript%3E", action=token)

    assert "<script>" not in page.html
    assert htmllib.escape(comment, quote=True) in page.html or "&lt;script&gt;" in page.html
    assert store.responses[sent].comment == comment


def test_a_refused_comment_with_script_is_escaped_when_the_form_is_shown_again(respond, store, keys, sent):
    token, _ = tokens(keys, store, sent)

    page = respond.submit(token, "score=99&comment=%3Cscript%3Ealert(1)%3C%2Fscript%3E", action=token)

    assert "<script>alert(1)" not in page.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html


def test_a_tampered_token_raises_and_writes_nothing(respond, store, keys, sent):
    token, _ = tokens(keys, store, sent)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    writes_before = store.writes

    with pytest.raises(InvalidLink):
        respond.submit(tampered, "score=9", action=tampered)
    assert store.writes == writes_before


def test_an_expired_token_raises_and_writes_nothing(respond, store, keys, sent, clock):
    token, _ = tokens(keys, store, sent)
    clock.advance(timedelta(days=31))

    with pytest.raises(ExpiredLink):
        respond.submit(token, "score=9", action=token)
    assert store.responses == {}


def test_a_valid_token_for_an_unknown_invitation_is_refused(respond, keys, clock):
    token = sign(keys.keys, LinkPurpose.RESPOND, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", clock.now() + timedelta(days=1))

    with pytest.raises(UnknownInvitation):
        respond.confirmation_page(token, "9", action=token)


def test_one_click_unsubscribe_suppresses_the_customer_with_the_first_timestamp(respond, store, keys, sent, clock):
    _, token = tokens(keys, store, sent)
    first_click = clock.now()

    page = respond.unsubscribe(token)
    clock.advance(timedelta(hours=5))
    again = respond.unsubscribe(token)

    assert page.status == again.status == 200
    assert store.profiles["C-100234"].email_unsubscribed_at == first_click


def test_the_unsubscribe_page_only_shows_a_confirmation(respond, store, keys, sent):
    _, token = tokens(keys, store, sent)

    page = respond.unsubscribe_page(token, action=token)

    assert 'method="post"' in page.html
    assert store.profiles["C-100234"].email_unsubscribed_at is None


def test_a_response_token_cannot_unsubscribe(respond, store, keys, sent):
    token, _ = tokens(keys, store, sent)

    with pytest.raises(InvalidLink):
        respond.unsubscribe(token)


@pytest.mark.parametrize("body", ["score=1&score=2", "comment=%ff%fe", "score", "=" * 70000])
def test_malformed_forms_are_refused(body):
    with pytest.raises(MalformedForm):
        parse_form(body)


@pytest.mark.parametrize(
    ("header", "locale"), [("pl-PL,pl;q=0.9", "pl"), ("de-DE, en;q=0.5", "en"), (None, "en"), ("fr", "en")]
)
def test_error_pages_follow_the_browser_language(header, locale):
    assert preferred_locale(header) == locale


def test_an_unsubscribe_link_works_even_if_its_invitation_was_later_recorded_as_skipped(respond, store, keys, sent):
    _, token = tokens(keys, store, sent)
    store.invitations[sent] = store.invitations[sent].model_copy(update={"status": "skipped"})

    page = respond.unsubscribe(token)

    assert page.status == 200
    assert store.profiles["C-100234"].email_unsubscribed_at is not None


@pytest.mark.parametrize(
    ("reason", "answerable"),
    [("UnconfirmedSend", True), ("MessageRejected", False)],
)
def test_a_failed_invitation_is_answerable_only_when_its_send_was_unconfirmed(
    respond, store, keys, sent, reason, answerable
):
    # GIVEN a sent invitation later recorded as failed: by the invite sweep (the send was unknown,
    # SES may have delivered it) or by the mail provider refusing it for good
    token, _ = tokens(keys, store, sent)
    store.invitations[sent] = store.invitations[sent].model_copy(update={"status": "failed", "failure_reason": reason})

    # WHEN the customer follows the response link
    if answerable:
        page = respond.submit(token, "score=8", action=token)
        # THEN an unconfirmed send takes the answer: the email most likely went out
        assert page.status == 200
        assert store.responses[sent].score == 8
    else:
        # THEN a refused one is unknown, as a link no email carried
        with pytest.raises(UnknownInvitation):
            respond.submit(token, "score=8", action=token)
        assert store.responses == {}
