"""The respond handler behind the HTTP API, with real API Gateway v2 payloads, under moto."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from tests.stack_support import sent_emails, tokens_in


@pytest.fixture
def email_tokens(stack, event):
    stack.invoke("InviteFunction", event("order-completed.json"))
    (message,) = sent_emails(stack)
    return tokens_in(message)


def call(stack, event, name, token, body=None, query=None):
    payload = event(name, token=token)
    if body is not None:
        payload["body"] = base64.b64encode(body.encode()).decode()
        payload["isBase64Encoded"] = True
    if query is not None:
        payload["rawQueryString"] = f"score={query}"
        payload["queryStringParameters"] = {"score": query}
    return stack.invoke("RespondFunction", payload)


def test_get_shows_the_confirmation_page_and_writes_nothing(stack, table, event, email_tokens):
    links, _ = email_tokens
    before = table.items()

    reply = call(stack, event, "respond-get.json", links[9])

    assert reply["statusCode"] == 200
    assert 'value="9" checked' in reply["body"]
    assert reply["headers"]["Content-Type"].startswith("text/html")
    assert table.items() == before


def test_post_commits_one_response_and_resubmitting_increments_its_version(stack, table, event, email_tokens, clock):
    links, _ = email_tokens

    first = call(stack, event, "respond-post.json", links[9])
    clock.advance(timedelta(hours=3))
    second = call(stack, event, "respond-post.json", links[9], body="score=4&comment=Changed+my+mind")

    assert first["statusCode"] == second["statusCode"] == 200
    (response,) = table.items("response")
    assert response["score"]["N"] == "4"
    assert response["version"]["N"] == "2"
    assert response["comment"]["S"] == "Changed my mind"
    assert response["program_id"]["S"] == "post-purchase-nps"
    assert response["context"]["M"]["store"]["S"] == "online-uk"


@pytest.mark.parametrize("body", ["score=11", "score=x", "comment=only"])
def test_an_invalid_answer_gets_a_4xx_with_the_reason_and_nothing_is_written(stack, table, event, email_tokens, body):
    links, _ = email_tokens

    reply = call(stack, event, "respond-post.json", links[9], body=body)

    assert 400 <= reply["statusCode"] < 500
    assert 'role="alert"' in reply["body"]
    assert table.items("response") == []


def test_a_malformed_body_gets_400_with_the_reason(stack, table, event, email_tokens):
    links, _ = email_tokens

    reply = call(stack, event, "respond-post.json", links[9], body="score=1&score=2")

    assert reply["statusCode"] == 400
    assert reply["headers"]["X-Npsloop-Reason"] == "malformed"
    assert "formularz nie został wysłany poprawnie" in reply["body"]  # the sample prefers Polish
    assert table.items("response") == []


def test_a_tampered_token_gets_a_friendly_4xx_page_and_writes_nothing(stack, table, event, email_tokens):
    links, _ = email_tokens
    tampered = links[9][:-3] + ("abc" if not links[9].endswith("abc") else "xyz")
    before = table.items()

    page = call(stack, event, "respond-get.json", tampered)
    post = call(stack, event, "respond-post.json", tampered)

    assert page["statusCode"] == post["statusCode"] == 400
    assert post["headers"]["X-Npsloop-Reason"] == "invalid"
    assert "Ten link nie działa" in post["body"]  # the sample request prefers Polish
    assert table.items() == before


def test_an_expired_token_gets_410_and_writes_nothing(stack, table, event, email_tokens, clock):
    links, _ = email_tokens
    clock.advance(timedelta(days=30, seconds=1))
    before = table.items()

    reply = call(stack, event, "respond-post.json", links[9])

    assert reply["statusCode"] == 410
    assert table.items() == before


def test_a_script_in_a_comment_is_stored_as_typed_and_escaped_on_the_page(stack, table, event, email_tokens):
    links, _ = email_tokens
    script = "<script>alert('x')</script>"

    reply = call(
        stack, event, "respond-post.json", links[3], body="score=3&comment=%3Cscript%3Ealert('x')%3C%2Fscript%3E"
    )

    assert script not in reply["body"]
    assert "&lt;script&gt;alert(" in reply["body"]
    assert table.items("response")[0]["comment"]["S"] == script


def test_one_click_unsubscribe_suppresses_future_surveys(stack, table, event, email_tokens):
    _, unsubscribe = email_tokens

    reply = call(stack, event, "unsubscribe-post.json", unsubscribe)
    later = event("order-completed.json")
    later["detail"]["order_id"] = "ORD-2026-9999"
    outcome = stack.invoke("InviteFunction", later)["outcomes"]

    assert reply["statusCode"] == 200
    profile = table.get("CUST#C-100234", "PROFILE")
    assert profile["email_unsubscribed_at"]["S"].startswith("2026-11-20")
    assert outcome[0]["reason"] == "unsubscribed"


def test_the_unsubscribe_page_asks_before_acting(stack, table, event, email_tokens):
    _, unsubscribe = email_tokens

    reply = call(stack, event, "unsubscribe-get.json", unsubscribe)

    assert reply["statusCode"] == 200
    assert 'method="post"' in reply["body"]
    assert "email_unsubscribed_at" not in (table.get("CUST#C-100234", "PROFILE") or {})


def test_a_body_that_is_not_utf8_gets_400_not_a_crash(stack, table, event, email_tokens):
    links, _ = email_tokens
    payload = event("respond-post.json", token=links[9])
    payload["body"] = base64.b64encode(b"score=9&comment=\xff\xfe").decode()

    reply = stack.invoke("RespondFunction", payload)

    assert reply["statusCode"] == 400
    assert table.items("response") == []


def test_a_non_ascii_token_gets_the_friendly_400_page(stack, event):
    reply = call(stack, event, "respond-get.json", "zażółć.gęślą.jaźń")

    assert reply["statusCode"] == 400
    assert reply["headers"]["X-Npsloop-Reason"] == "invalid"


def test_a_second_one_click_unsubscribe_of_the_same_link_answers_200_and_keeps_the_first_time(
    stack, table, event, email_tokens, clock
):
    # GIVEN a customer who unsubscribed with the one-click link (mail clients may POST it again)
    _, unsubscribe = email_tokens
    first = call(stack, event, "unsubscribe-post.json", unsubscribe)
    stamped = table.get("CUST#C-100234", "PROFILE")["email_unsubscribed_at"]["S"]

    # WHEN the same link is posted again an hour later
    clock.advance(timedelta(hours=1))
    second = call(stack, event, "unsubscribe-post.json", unsubscribe)

    # THEN both answer 200 and the first unsubscribe time stands
    assert (first["statusCode"], second["statusCode"]) == (200, 200)
    assert table.get("CUST#C-100234", "PROFILE")["email_unsubscribed_at"]["S"] == stamped
