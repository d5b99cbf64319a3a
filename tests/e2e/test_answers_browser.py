"""The answers behind the dashboard in a real browser, as KRK-02's store manager: drill from a tile and
from a distribution bar to /answers (the list holds exactly the matching answers), filter by detractors
and a Polish word typed without diacritics, read on to the next page, download the CSV and read it, and
watch the dashboard's "latest answers" panel take a new answer without a reload. No sideways scrolling
at 375 px, no serious or critical axe violation; screenshots at 375 and 1280 px in tests/artifacts."""

from __future__ import annotations

import csv
import io
import urllib.parse
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import test_dashboard_browser as dashboard
from tests.e2e.test_case_pages_browser import checked, signed_in
from tests.e2e.test_dashboard_browser import ARTIFACTS, DESKTOP, PHONE, REFRESH_SECONDS, answer

pytestmark = pytest.mark.browser
fast_stack = dashboard.fast_stack  # the stack with the dashboard polling every second
COMMENTS = {
    2: "Bardzo długo czekałam w kolejce do kasy.",
    3: "Obsługa niemiła, nikt nie pomógł.",
    8: "W porządku, ale drogo.",
    10: "Świetna obsługa, wszystko szybko.",
}


def seed(stack, clock) -> None:
    """40 answers of KRK-02 (scores 10, 8, 2, 3 in turn, a minute apart, newest first) and 5 of WAW-01."""
    for i in range(40):
        score = (10, 8, 2, 3)[i % 4]
        at = clock.now() - timedelta(minutes=i + 1)
        answer(stack, clock, i, score, "KRK-02", "malopolskie", at, comment=COMMENTS[score])
    for i in range(40, 45):
        answer(stack, clock, i, 2, "WAW-01", "mazowieckie", clock.now(), comment="sekret WAW długo")
    stack.drain()


def query_of(page) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)


def scores_listed(page) -> list[int]:
    return [int(s) for s in page.locator("ul.answers li .num").all_inner_texts()]


def test_a_store_manager_drills_from_a_tile_and_a_bar_filters_and_reads_on(browser, fast_stack, clock):
    ARTIFACTS.mkdir(exist_ok=True)
    seed(fast_stack, clock)
    for viewport, locale, name in ((PHONE, "pl-PL", "answers-store-manager-pl-phone"),
                                   (DESKTOP, "en-GB", "answers-store-manager-en-desktop")):  # fmt: skip
        context, page = signed_in(browser, f"{fast_stack.base_url}/dashboard", "Store manager KRK-02", viewport,
                                  locale=locale)  # fmt: skip
        page.locator('[data-program="post-purchase-nps"] a.tile-link').click()
        assert urllib.parse.urlsplit(page.url).path == "/answers"
        assert query_of(page) == {"program": ["post-purchase-nps"], "store": ["KRK-02"]}
        assert page.locator("ul.answers li").count() == 25  # the newest 25 of KRK-02's 40
        assert "WAW" not in page.content()
        title = "Answers · NPS after an order" if locale == "en-GB" else "Odpowiedzi · NPS po zakupach"
        assert page.locator("h1").inner_text() == title  # the program by its name in the page's language
        checked(page, name, viewport[0])

        page.get_by_role("link", name="Older answers" if locale == "en-GB" else "Starsze odpowiedzi").click()
        assert page.locator("ul.answers li").count() == 15  # the other 15: 40 in all, none twice
        context.close()

    context, page = signed_in(browser, f"{fast_stack.base_url}/dashboard", "Store manager KRK-02", DESKTOP,
                              locale="en-GB")  # fmt: skip
    page.get_by_role("link", name="Score 2", exact=True).click()
    expect(page.locator("ul.answers li")).to_have_count(10)  # the answers page loaded (the URL changes first)
    assert query_of(page) == {"program": ["post-purchase-nps"], "score": ["2"], "store": ["KRK-02"]}
    assert scores_listed(page) == [2] * 10

    page.goto(f"{fast_stack.base_url}/answers?program=post-purchase-nps&store=KRK-02")
    page.get_by_label("Score group").select_option("detractor")
    page.get_by_label("Search comments").fill("dlugo")  # typed without the ł
    page.get_by_role("button", name="Show answers").click()
    assert query_of(page)["group"] == ["detractor"] and query_of(page)["q"] == ["dlugo"]
    assert scores_listed(page) == [2] * 10  # the detractors whose comment says "długo"; not the 3s
    assert page.locator("ul.answers mark").first.inner_text() == "długo"
    checked(page, "answers-search-en-desktop", DESKTOP[0])

    with page.expect_download() as download:
        page.get_by_role("link", name="Download these answers (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 10 and {r["score"] for r in rows} == {"2"}
    assert all("długo" in r["comment"] for r in rows) and "WAW" not in text
    context.close()


def test_the_latest_answers_panel_takes_a_new_answer_without_a_reload(browser, fast_stack, clock):
    ARTIFACTS.mkdir(exist_ok=True)
    seed(fast_stack, clock)
    context, page = signed_in(browser, f"{fast_stack.base_url}/dashboard", "Store manager KRK-02", PHONE)
    panel = page.locator('section[aria-labelledby="latest-title"] [data-live-src]')
    page.wait_for_function("document.querySelectorAll('.answers-latest li').length === 5")
    assert "Bardzo długo" in panel.inner_text() or "Świetna" in panel.inner_text()
    page.evaluate("window.__marker = 'same page'")

    answer(fast_stack, clock, 99, 1, "KRK-02", "malopolskie", clock.now() + timedelta(seconds=1),
           comment="Zupełnie nowa odpowiedź")  # fmt: skip
    fast_stack.drain()
    page.wait_for_function(
        "document.querySelector('.answers-latest').innerText.includes('Zupełnie nowa odpowiedź')",
        timeout=(REFRESH_SECONDS * 3 + 2) * 1000,
    )
    assert page.evaluate("window.__marker") == "same page"
    checked(page, "dashboard-latest-answers-pl-phone", PHONE[0])
    context.close()
