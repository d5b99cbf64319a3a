"""The response page in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.stack_support import sent_emails, tokens_in

pytestmark = pytest.mark.browser


def test_a_person_confirms_the_clicked_score_adds_a_comment_and_the_answer_is_stored(
    browser, stack, table, entries, tmp_path
):
    # GIVEN an invitation email with one-click links
    stack.put_events(entries)
    stack.drain()
    links, _ = tokens_in(sent_emails(stack)[0])
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="en-GB")  # a phone

    # WHEN the person clicks "8" in the email
    page.goto(f"{stack.base_url}/r/{links[8]}?score=8")

    # THEN the page shows 8 preselected and nothing is stored yet
    assert page.locator("input[name=score][value='8']").is_checked()
    assert page.locator("input[name=score]:checked").count() == 1
    assert table.items("response") == []
    page.screenshot(path=str(tmp_path / "response-page.png"), full_page=True)

    # WHEN they add a comment (with markup) and submit
    page.get_by_label("What is the main reason for your score?").fill("<b>Fast</b> & friendly")
    page.get_by_role("button", name="Send my answer").click()

    # THEN they see the thank-you page, the comment shown as text, and the answer is stored
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert page.locator("blockquote").inner_text() == "<b>Fast</b> & friendly"
    (response,) = table.items("response")
    assert (response["score"]["N"], response["comment"]["S"]) == ("8", "<b>Fast</b> & friendly")
    page.screenshot(path=str(tmp_path / "thanks-page.png"), full_page=True)
    page.close()


def test_the_score_can_be_changed_on_the_page_before_submitting(browser, stack, table, entries):
    stack.put_events(entries)
    stack.drain()
    links, _ = tokens_in(sent_emails(stack)[0])
    page = browser.new_page(java_script_enabled=False)  # works without JavaScript

    page.goto(f"{stack.base_url}/r/{links[3]}?score=3")
    page.locator("label[for=score-6]").click()
    page.get_by_role("button").click()

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert table.items("response")[0]["score"]["N"] == "6"
    page.close()


def test_the_response_page_works_with_the_keyboard_alone(browser, stack, table, entries):
    # GIVEN a person who uses only the keyboard, on the page a "5" link opened
    stack.put_events(entries)
    stack.drain()
    links, _ = tokens_in(sent_emails(stack)[0])
    page = browser.new_page(locale="pl-PL")
    page.goto(f"{stack.base_url}/r/{links[5]}?score=5")

    # WHEN they tab into the scale, move to 6 with an arrow key, tab to the comment, type, and submit
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "score"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "comment"
    page.keyboard.type("Wszystko dobrze")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # THEN the answer they chose is stored and thanked for
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    response = table.items("response")[0]
    assert (response["score"]["N"], response["comment"]["S"]) == ("6", "Wszystko dobrze")
    page.close()


def test_every_form_control_has_a_label_and_the_page_declares_its_language(browser, stack, entries):
    stack.put_events(entries)
    stack.drain()
    links, unsubscribe = tokens_in(sent_emails(stack)[0])
    page = browser.new_page()

    for url in (f"{stack.base_url}/r/{links[9]}?score=9", f"{stack.base_url}/u/{unsubscribe}"):
        page.goto(url)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), textarea, button')]
                   .filter(el => !(el.labels && el.labels.length) && !el.textContent.trim()
                                 && !el.getAttribute('aria-label')).map(el => el.outerHTML)"""
        )
        assert unlabelled == []
        assert page.evaluate("document.documentElement.lang") in {"en", "pl"}
        assert page.locator("h1").count() == 1
    page.close()
