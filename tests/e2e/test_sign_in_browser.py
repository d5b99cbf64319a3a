"""The local sign-in in a real browser: every kind of persona signs in through the hosted-sign-in page and
lands where its groups say (the dashboard, or their cases), told what it can see; a manager's session
token reaches only their scope."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
pytestmark = pytest.mark.browser


def cases_seen(stack, token, store):
    request = urllib.request.Request(f"{stack.base_url}/api/cases?store={store}")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize(
    ("persona", "label", "own_store", "other_store"),
    [
        ("store-KRK-02", "Store manager KRK-02", "KRK-02", "WAW-01"),
        ("region-malopolskie", "Regional manager malopolskie", "KRK-02", "WAW-01"),
    ],
)
def test_a_persona_signs_in_without_javascript_and_its_token_reaches_only_its_scope(
    browser, stack, persona, label, own_store, other_store
):
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height, name in ((375, 812, "phone"), (1280, 900, "desktop")):
        context = browser.new_context(
            viewport={"width": width, "height": height}, java_script_enabled=False, locale="en-GB"
        )
        page = context.new_page()
        page.goto(f"{stack.base_url}/auth/sign-in")  # -> /oauth2/authorize -> /login
        assert "/login?" in page.url
        page.screenshot(path=str(ARTIFACTS / f"sign-in-{name}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        page.get_by_label(label).check()
        page.get_by_role("button", name="Zaloguj / Sign in").click()
        assert page.url == f"{stack.base_url}/dashboard"  # a manager reads scores: the callback lands there
        expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
        page.goto(f"{stack.base_url}/cases")
        expect(page.get_by_text("No cases here.")).to_be_visible()  # an empty list says why, with the scope
        expect(page.get_by_text(f"Your scope: {'store' if persona.startswith('store') else 'region'}")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / f"signed-in-{persona}-{name}.png"), full_page=True)
        session = next(c for c in context.cookies() if c["name"] == "npsloop_session")
        assert (session["httpOnly"], session["secure"], session["sameSite"]) == (True, True, "Lax")
        token = session["value"]  # the ID token from the hosted sign-in also opens the JSON API
        context.close()
    claims = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["cognito:groups"] == [f"npsloop-{persona}"]
    assert cases_seen(stack, token, own_store) == 200
    assert cases_seen(stack, token, other_store) == 403


@pytest.mark.parametrize(
    ("persona", "label", "lands_on", "says"),
    [
        ("cx-lead", "CX lead (whole network)", "/dashboard", "· all stores"),
        ("analyst", "Analyst (scores, no personal data)", "/dashboard", "· all stores"),
        ("admin", "Admin", "/dashboard", "· all stores"),
        ("region-malopolskie", "Regional manager malopolskie", "/dashboard", "· region malopolskie"),
        ("store-KRK-02", "Store manager KRK-02", "/dashboard", "· store KRK-02"),
        ("owner-cx-desk", "Case owner cx-desk", "/cases", "Your scope: no store (only the cases you own or manage)"),
    ],
)
def test_every_kind_of_persona_signs_in_and_lands_on_a_page_that_says_what_they_can_see(
    browser, stack, persona, label, lands_on, says
):
    from tests.e2e.accessibility import axe_violations

    context = browser.new_context(
        viewport={"width": 375, "height": 812}, locale="en-GB", bypass_csp=True
    )  # axe is injected
    page = context.new_page()
    page.goto(f"{stack.base_url}/auth/sign-in")
    persona_choice = page.locator(f"#p-{persona}")
    assert label in persona_choice.locator("xpath=..").inner_text()  # the login page names the role in words
    persona_choice.check()
    page.get_by_role("button", name="Zaloguj / Sign in").click()
    page.wait_for_url(f"{stack.base_url}{lands_on}")
    page.wait_for_load_state("load")
    told = page.get_by_text(says).first
    told.wait_for(state="visible", timeout=15_000)  # waits for the page to render; fails if it never says so
    expect(told, f"{persona} is not told what they can see").to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    header = page.locator("header").bounding_box()
    for link in page.locator("header a").all():  # white on the header's colour: never spilling onto the page
        box = link.bounding_box()
        assert header["y"] <= box["y"] and box["y"] + box["height"] <= header["y"] + header["height"], link.inner_text()
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / f"landing-{persona}-phone.png"), full_page=True)
    context.close()
