"""The front half of the loop on the local stack: bus -> invite -> SES outbox -> HTTP pages -> DynamoDB."""

from __future__ import annotations

import urllib.parse

from tests.conftest import at_once
from tests.e2e.conftest import http
from tests.stack_support import LINK, sent_emails, tokens_in


def test_a_business_event_on_the_bus_becomes_one_email_and_an_answer_in_dynamodb(stack, table, entries):
    result = stack.put_events(entries)
    stack.drain()

    assert result["FailedEntryCount"] == 0
    (message,) = sent_emails(stack)
    links, _ = tokens_in(message)
    url = f"{stack.base_url}/r/{links[10]}"
    status, _, page = http(f"{url}?score=10")
    assert status == 200 and 'value="10" checked' in page
    status, _, page = http(url, urllib.parse.urlencode({"score": "10", "comment": "Świetnie!"}).encode())
    assert status == 200
    (response,) = table.items("response")
    assert (response["score"]["N"], response["comment"]["S"]) == ("10", "Świetnie!")


def test_the_same_event_put_five_times_concurrently_gives_one_invitation_and_one_email(stack, table, entries):
    _, errors = at_once(5, lambda: stack.put_events(entries))
    assert errors == []
    stack.drain()  # runs Lambda's retries of the deliveries that met an in-flight claim

    assert len(sent_emails(stack)) == 1
    assert len(table.items("invitation")) == 1
    assert stack.dead_letters("InviteDeadLetterQueue") == []


def test_a_link_scanner_opening_every_link_commits_no_response(stack, table, entries):
    stack.put_events(entries)
    stack.drain()
    (message,) = sent_emails(stack)
    text = message.get_body(("plain",)).get_content()
    html_part = message.get_body(("html",)).get_content()
    urls = {m.group(0) for m in LINK.finditer(text)} | {m.group(0) for m in LINK.finditer(html_part)}
    before = table.items()

    statuses = [http(url)[0] for url in sorted(urls)]

    assert len(urls) == 11
    assert statuses == [200] * 11
    assert table.items("response") == []
    assert table.items() == before


def test_a_tampered_link_over_http_gets_a_friendly_400_page(stack, table, entries):
    stack.put_events(entries)
    stack.drain()
    links, _ = tokens_in(sent_emails(stack)[0])
    tampered = links[9].replace(".", "x", 1)

    status, headers, page = http(f"{stack.base_url}/r/{tampered}", b"score=9", {"Accept-Language": "en-GB"})

    assert status == 400
    assert headers["X-Npsloop-Reason"] == "invalid"
    assert "This link does not work" in page
    assert table.items("response") == []


def test_an_unknown_address_gets_a_404(stack):
    status, _, _ = http(f"{stack.base_url}/nothing/here")

    assert status == 404


def test_rfc8058_one_click_unsubscribe_over_http(stack, table, entries):
    stack.put_events(entries)
    stack.drain()
    _, unsubscribe = tokens_in(sent_emails(stack)[0])

    status, _, _ = http(
        f"{stack.base_url}/u/{unsubscribe}",
        b"List-Unsubscribe=One-Click",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert status == 200
    assert "email_unsubscribed_at" in table.get("CUST#C-100234", "PROFILE")


def test_an_invalid_event_on_the_bus_is_parked_not_retried(stack, table):
    result = stack.put_events(
        [
            {
                "Source": "acme.shop",
                "DetailType": "OrderCompleted",
                "Detail": '{"event_id": "x", "customer": {}}',
                "EventBusName": stack.outputs["EventBusName"],
            }
        ]
    )
    stack.drain()

    assert result["FailedEntryCount"] == 0
    (parked,) = stack.dead_letters("InviteDeadLetterQueue")
    # Parked by the handler on the first attempt: the event itself, not Lambda's retries-exhausted record.
    assert "requestContext" not in parked
    assert parked["detail-type"] == "OrderCompleted"
    assert parked["detail"]["event_id"] == "x"
    assert table.items() == []
    assert sent_emails(stack) == []
