"""The funnel partial in a real browser, inside a minimal staff page: fits a 375 px phone, axe finds nothing
serious, screenshots at phone and desktop widths go to tests/artifacts/ (gitignored) for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.accessibility import axe_violations
from tests.funnel_page import render, sample_funnel

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WIDTHS = {"phone": 375, "desktop": 1280}


@pytest.mark.parametrize("locale", ["pl", "en"])
@pytest.mark.parametrize("name", list(WIDTHS))
def test_the_funnel_fits_the_screen_and_reads_well(browser, locale, name):
    width = WIDTHS[name]
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_content(render(sample_funnel(), locale), wait_until="load")

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    bars = page.locator(".funnel .bar span")
    widths = [bars.nth(i).bounding_box()["width"] for i in range(bars.count())]
    assert widths == sorted(widths, reverse=True) and widths[0] > 4 * widths[-1]  # invited down to commented
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"funnel-{locale}-{name}.png"), full_page=True)
    page.close()
