"""The case API builds links from the URL a request reached it by (it cannot know its own API's URL)."""

from __future__ import annotations

import pytest

from npsloop.api.cases import request_base_url


def event(domain: str | None = "abc123.execute-api.eu-west-1.amazonaws.com", stage: str = "$default", **headers: str):
    context = {"stage": stage, **({"domainName": domain} if domain else {})}
    return {"requestContext": context, "headers": headers}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (event(), "https://abc123.execute-api.eu-west-1.amazonaws.com"),
        (event(stage="prod"), "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"),
        (event(domain="feedback.example.com", **{"X-Forwarded-Proto": "https"}), "https://feedback.example.com"),
        (event(domain="127.0.0.1:3000", **{"x-forwarded-proto": "http"}), "http://127.0.0.1:3000"),
        (event(domain=None, host="api.example.com"), "https://api.example.com"),
        (event(**{"x-forwarded-proto": "javascript"}), "https://abc123.execute-api.eu-west-1.amazonaws.com"),
    ],
)
def test_the_base_url_comes_from_the_request(given, expected):
    assert request_base_url(given) == expected


@pytest.mark.parametrize(
    "given",
    [event(domain=None), event(domain="evil.com/path"), event(domain="a b"), {}],
)
def test_no_usable_host_gives_no_link(given):
    assert request_base_url(given) is None


def test_a_stage_that_is_not_a_name_is_left_out():
    assert request_base_url(event(stage="../x")) == "https://abc123.execute-api.eu-west-1.amazonaws.com"
