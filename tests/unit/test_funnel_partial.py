"""The funnel partial (templates/pages/app/_funnel.html): counts, shares and reasons in words, both languages."""

from __future__ import annotations

import re

import pytest

from tests.funnel_page import empty_funnel, render, sample_funnel


def text(html: str) -> str:
    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", body))  # no-break spaces stay: they are the point


def test_each_step_says_its_count_and_share_and_the_bars_are_decoration():
    html = render(sample_funnel(), "en")
    words = text(html)

    assert "Invited (email sent) 12,840" in words
    assert "Delivered 12,510 · 97.4% of invited" in words
    assert "Answered 2,410 · 18.8% of invited · 19.3% of delivered" in words
    assert "Bounced (address rejected the email) 214 · 1.7% of invited" in words
    assert words.index("surveyed too recently 1,900") < words.index("not in the sample 800")  # most first
    assert "Marked as spam 6 · 0.05% of invited" in words  # not "0.0%"
    assert "Failed to send 17" in words
    assert "Imported answers have no invitation" in words
    assert html.count('class="bar" aria-hidden="true"') == 5
    assert 'style="width: 47.5%"' in html  # opened: 6,105 of 12,840
    assert "<script" not in html.split("</header>", 1)[1]


def test_polish_numbers_and_plain_reasons():
    words = text(render(sample_funnel(), "pl"))

    assert "Wysłane zaproszenia 12\u00a0840" in words
    assert "Doręczone 12\u00a0510 · 97,4% wysłanych" in words
    assert "za krótko od poprzedniej ankiety 1\u00a0900" in words
    assert "brak zgody na e-maile 310" in words


@pytest.mark.parametrize("locale", ["en", "pl"])
def test_a_view_without_invitations_says_so(locale):
    words = text(render(empty_funnel(), locale))

    expected = "No invitations were created" if locale == "en" else "nie utworzono zaproszeń"
    assert expected in words
    assert "of invited" not in words and "wysłanych" not in words


@pytest.mark.parametrize(("locale", "words"), [("en", "at least 5"), ("pl", "co najmniej 5")])
def test_opens_below_the_answers_read_as_at_least_with_the_reason(locale, words):
    from datetime import date

    from npsloop.domain.funnel import FunnelDay, funnel_of

    days = [FunnelDay("all", "all", date(2026, 11, 1), {"invited": 10, "delivered": 10, "opened": 2, "answered": 5})]
    html = render(funnel_of(days, "all", "all", date(2026, 11, 1), date(2026, 11, 1)), locale)
    assert words in text(html) and ("tracking image" in html or "obrazku śledzącym" in html)
