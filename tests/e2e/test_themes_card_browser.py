"""The dashboard's themes card in a real browser: what detractors and promoters write about, with shares,
each theme a link to its answers. No sideways scrolling at 375 px, no serious or critical axe violation;
screenshots at 375 and 1280 px in tests/artifacts."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.e2e.test_case_pages_browser import checked, signed_in
from tests.e2e.test_dashboard_browser import ARTIFACTS, DESKTOP, PHONE
from tests.integration.test_comment_analysis import seed_themes

pytestmark = pytest.mark.browser


def test_the_themes_card_shows_shares_and_a_theme_drills_down_to_its_answers(browser, stack, table, clock):
    ARTIFACTS.mkdir(exist_ok=True)
    seed_themes(stack, table, clock)
    url = f"{stack.base_url}/dashboard"
    for viewport, locale, name, label in (
        (PHONE, "pl-PL", "dashboard-themes-pl-phone", "CX lead (cała sieć)"),
        (DESKTOP, "en-GB", "dashboard-themes-en-desktop", "CX lead (whole network)"),
    ):
        context, page = signed_in(browser, url, label, viewport, locale=locale)
        card = page.locator("section.themes")
        card.scroll_into_view_if_needed()
        assert card.get_by_role("heading", level=2).is_visible()
        assert card.locator("ol.theme-list li").count() == 4  # detractors: delivery, staff, price; promoters: staff
        checked(page, name, viewport[0])
        card.screenshot(path=str(ARTIFACTS / f"{name}-card.png"))
        context.close()

    context, page = signed_in(browser, url, "CX lead (whole network)", DESKTOP, locale="en-GB")
    page.locator("section.themes").get_by_role("link", name="delivery").click()
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert urllib.parse.urlsplit(page.url).path == "/answers"
    assert query["group"] == ["detractor"] and query["theme"] == ["delivery"]
    assert page.get_by_text("Kurier spóźniony 0").is_visible()
    assert page.get_by_text("Kurier spóźniony 4").count() == 0  # a price comment
    context.close()
