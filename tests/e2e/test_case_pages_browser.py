"""Closing the loop in a real browser: a detractor's answer goes through the local stack, the store manager
opens the case from the alert email's link, signs in through the hosted sign-in, works the case to resolved
and sees its history; another store's manager gets a friendly 403. axe-core (vendored, pinned) finds no
serious or critical violation on any page; screenshots at phone and desktop width go to tests/artifacts."""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.accessibility import axe_violations
from tests.e2e.conftest import http
from tests.stack_support import sent_emails, tokens_in

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE, DESKTOP = (375, 812), (1280, 900)
pytestmark = pytest.mark.browser


def detractor_case_link(stack, entries) -> str:
    """A KRK-02 order, its survey answered with a 2 and a comment: the case link of the alert email sent."""
    for entry in entries:
        detail = json.loads(entry["Detail"])
        detail["context"].update(store="KRK-02", region="malopolskie")
        entry["Detail"] = json.dumps(detail)
    stack.put_events(entries)
    stack.drain()
    (invitation,) = sent_emails(stack)
    links, _ = tokens_in(invitation)
    form = urllib.parse.urlencode({"score": "2", "comment": "Kurier spóźnił się dwa dni, a ekspres był porysowany."})
    assert http(f"{stack.base_url}/r/{links[2]}", form.encode())[0] == 200
    stack.drain()
    alert = next(m for m in sent_emails(stack) if m is not invitation and "ewa.mazur" in str(m["To"]))
    text = alert.get_body(("plain",)).get_content()
    (link,) = re.findall(r"https?://\S+/cases/[A-Za-z0-9._-]+", text)
    return link


def checked(page, name: str, width: int) -> None:
    """No sideways scrolling, no serious or critical axe violation, and a full-page screenshot."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways"
    assert axe_violations(page) == [], name
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def signed_in(browser, url: str, persona_label: str, viewport: tuple[int, int], locale: str = "pl-PL"):
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, locale=locale, bypass_csp=True
    )  # bypass_csp: the pages allow no script, axe is injected by the test
    page = context.new_page()
    page.goto(url)  # no session: -> /auth/sign-in?next=... -> the hosted sign-in
    assert "/login?" in page.url
    page.get_by_label(persona_label).check()
    page.get_by_role("button", name="Zaloguj / Sign in").click()
    return context, page


def test_a_store_manager_opens_the_case_from_the_alert_email_and_works_it_to_resolved(browser, stack, entries):
    ARTIFACTS.mkdir(exist_ok=True)
    link = detractor_case_link(stack, entries)
    case_path = urllib.parse.urlsplit(link).path
    context, page = signed_in(browser, link, "Store manager KRK-02", PHONE)

    assert page.url.endswith(case_path)  # back on the case after the sign-in
    expect(page.get_by_text("Kurier spóźnił się dwa dni, a ekspres był porysowany.")).to_be_visible()
    # the call-back card: the store's manager
    expect(page.get_by_text("Kontakt z klientem", exact=True)).to_be_visible()
    checked(page, "case-page-pl-phone", PHONE[0])

    page.select_option("#status", label="w toku")
    page.fill("#note", "Dzwonię do klienta.")
    page.get_by_role("button", name="Zapisz").click()
    assert page.get_by_role("status").inner_text() == "Zapisano."
    page.select_option("#status", label="po kontakcie")
    page.get_by_role("button", name="Zapisz").click()
    page.select_option("#status", label="rozwiązana")  # without a root cause: refused, with the reason
    page.fill("#note", "Zwrot kosztów dostawy.")
    page.get_by_role("button", name="Zapisz").click()
    assert "aby rozwiązać sprawę, wybierz przyczynę" in page.get_by_role("alert").inner_text()
    assert page.input_value("#note") == "Zwrot kosztów dostawy."  # nothing typed is lost
    checked(page, "case-page-refused-pl-phone", PHONE[0])
    page.select_option("#root_cause", label="dostawa")
    page.get_by_role("button", name="Zapisz").click()

    history = page.locator("ol.history").inner_text()
    for line in ("otwarcie sprawy", "otwarta → w toku", "w toku → po kontakcie", "po kontakcie → rozwiązana"):
        assert line in history
    assert "Dzwonię do klienta." in history and "Zwrot kosztów dostawy." in history
    assert page.locator("dl.facts").first.inner_text().count("rozwiązana") == 1
    checked(page, "case-page-resolved-pl-phone", PHONE[0])
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    page.goto(f"{stack.base_url}/cases?status=resolved")
    expect(page.get_by_role("link", name=re.compile("score 2 at KRK-02"))).to_be_visible()
    checked(page, "my-cases-en-phone", PHONE[0])
    context.close()

    context, page = signed_in(browser, link, "Store manager KRK-02", DESKTOP, locale="en-GB")
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    checked(page, "case-page-en-desktop", DESKTOP[0])
    page.goto(f"{stack.base_url}/cases?status=resolved")
    checked(page, "my-cases-en-desktop", DESKTOP[0])
    context.close()


def test_a_store_manager_cannot_open_another_stores_case_from_its_link(browser, stack, entries):
    ARTIFACTS.mkdir(exist_ok=True)
    link = detractor_case_link(stack, entries)
    for viewport, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        context, page = signed_in(browser, link, "Store manager WAW-01", viewport)
        expect(page.get_by_role("heading", name="To nie jest Twoja sprawa")).to_be_visible()
        assert "Kurier" not in page.content()  # nothing of the case, not even the comment
        checked(page, f"case-forbidden-pl-{name}", viewport[0])
        context.close()
