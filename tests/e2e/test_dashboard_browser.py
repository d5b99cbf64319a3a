"""The dashboard in a real browser: a CX lead and KRK-02's store manager sign in and see the tiles, the
trend chart and the store table; a tile drills down to its answers with the view's filters; a new answer
(put + drain) reaches the open page's tile within the refresh interval, without a reload. No sideways
scrolling at 375 px, no serious or critical axe violation; screenshots at 375 and 1280 px in tests/artifacts."""

from __future__ import annotations

import json
import re
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer

from npsloop.adapters.dynamodb_answers import answer_index_keys
from npsloop_local.stack import LocalStack
from tests.conftest import ROOT
from tests.e2e.test_case_pages_browser import checked, signed_in
from tests.fakes_cases import response_image

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE, DESKTOP = (375, 812), (1280, 900)
REFRESH_SECONDS = 1
pytestmark = pytest.mark.browser
_serializer = TypeSerializer()


@pytest.fixture
def fast_stack(clock, tmp_path):
    """The stack of template.yaml with the dashboard polling every second, IAM enforced."""
    with LocalStack(
        template_path=ROOT / "template.yaml",
        clock=clock,
        outbox_dir=tmp_path / "outbox",
        parameters={"DashboardRefreshSeconds": str(REFRESH_SECONDS)},
    ) as running:
        yield running
        assert not running.authorizer.denied, "IAM denied calls: " + "; ".join(map(str, running.authorizer.denied))


def answer(
    stack,
    clock,
    number: int,
    score: int,
    store: str,
    region: str,
    at: datetime | None = None,
    comment: str | None = None,
) -> None:
    """A response item as the respond path writes it: with its answer-index keys (the /answers list reads them)."""
    created = at or clock.now()
    image = response_image(f"inv-b{number:04d}", score=score, store=store, region=region, created_at=created,
                           comment=comment)  # fmt: skip
    image |= answer_index_keys(image["program_id"], image["context"], created, image["invitation_id"])
    item = {k: _serializer.serialize(v) for k, v in image.items()}
    boto3.client("dynamodb").put_item(TableName=stack.outputs["TableName"], Item=item)


def seed(stack, clock) -> None:
    for i in range(40):
        answer(stack, clock, i, (10, 9, 8, 2)[i % 4], "KRK-02", "malopolskie")
    for i in range(40, 52):
        answer(stack, clock, i, 9, "WAW-01", "mazowieckie")
    stack.drain()


def tile_count(page) -> int:
    return int(page.locator('[data-program="post-purchase-nps"] .tile-n').get_attribute("data-n"))


def test_a_cx_lead_sees_tiles_chart_and_stores_and_drills_from_a_tile_to_its_answers(browser, fast_stack, clock):
    ARTIFACTS.mkdir(exist_ok=True)
    seed(fast_stack, clock)
    url = f"{fast_stack.base_url}/dashboard?period=day"
    for viewport, locale, name in ((PHONE, "pl-PL", "dashboard-cx-lead-pl-phone"),
                                   (DESKTOP, "en-GB", "dashboard-cx-lead-en-desktop")):  # fmt: skip
        label = "CX lead (whole network)" if locale == "en-GB" else "CX lead (cała sieć)"
        context, page = signed_in(browser, url, label, viewport, locale=locale)
        assert page.url.endswith("/dashboard?period=day")
        assert tile_count(page) == 52
        page.wait_for_selector("#trend-chart[data-drawn]")
        assert page.locator("table.ranking").get_by_role("link", name="KRK-02").is_visible()
        checked(page, name, viewport[0])
        context.close()

    context, page = signed_in(browser, url, "CX lead (whole network)", DESKTOP, locale="en-GB")
    page.locator('[data-program="post-purchase-nps"] a.tile-link').click()
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert urllib.parse.urlsplit(page.url).path == "/answers"
    assert query == {"program": ["post-purchase-nps"], "period": ["day"]}
    context.close()


def test_a_store_manager_sees_their_store_and_a_new_answer_arrives_without_a_reload(browser, fast_stack, clock):
    ARTIFACTS.mkdir(exist_ok=True)
    seed(fast_stack, clock)
    for viewport, name in (
        (DESKTOP, "dashboard-store-manager-en-desktop"),
        (PHONE, "dashboard-store-manager-en-phone"),
    ):
        context, page = signed_in(browser, f"{fast_stack.base_url}/dashboard", "Store manager KRK-02", viewport,
                                  locale="en-GB")  # fmt: skip
        assert tile_count(page) == 40  # their store, not the network's 52
        assert "network average" in page.locator("#overview").inner_text()
        assert "WAW-01" not in page.content()
        checked(page, name, viewport[0])
        if viewport is PHONE:
            break
        context.close()

    page.evaluate("window.__marker = 'same page'")
    answer(fast_stack, clock, 99, 0, "KRK-02", "malopolskie")
    fast_stack.drain()
    page.wait_for_function(
        "document.querySelector('[data-program=\"post-purchase-nps\"] .tile-n').dataset.n === '41'",
        timeout=(REFRESH_SECONDS * 3 + 2) * 1000,
    )
    assert page.evaluate("window.__marker") == "same page"  # refreshed in place, not reloaded
    assert re.search(r"updated \d\d:\d\d", page.locator("[data-live-status]").first.inner_text())
    refused = page.goto(f"{fast_stack.base_url}/dashboard?store=WAW-01")
    assert refused.status == 403
    context.close()


def test_a_store_managers_drop_shows_below_the_baseline_band_on_the_trend_chart(browser, fast_stack, clock):
    """KRK-02 at NPS 80 over the trend rule's baseline (2026-09-11..11-05), then 40 answers on 2026-11-12
    (in the last 14 days) at NPS -35: the trend alert's drop, shown on the chart and said above it."""
    ARTIFACTS.mkdir(exist_ok=True)
    for i in range(50):
        answer(
            fast_stack,
            clock,
            i,
            3 if i % 10 == 0 else 10,
            "KRK-02",
            "malopolskie",
            datetime(2026, 10, 1, 12, tzinfo=UTC),
        )
    for i in range(50, 90):
        answer(
            fast_stack, clock, i, (10, 2, 2, 8)[i % 4], "KRK-02", "malopolskie", datetime(2026, 11, 12, 12, tzinfo=UTC)
        )
    fast_stack.drain()

    for viewport, locale, name, words in (
        (PHONE, "pl-PL", "dashboard-drop-store-manager-pl-phone", "Rzeczywisty spadek"),
        (DESKTOP, "en-GB", "dashboard-drop-store-manager-en-desktop", "Real drop"),
    ):
        context, page = signed_in(browser, f"{fast_stack.base_url}/dashboard?period=week", "Store manager KRK-02",
                                  viewport, locale=locale)  # fmt: skip
        page.wait_for_selector("#trend-chart[data-baseline]")
        header = page.locator("header nav").bounding_box()
        assert (
            header["height"] >= 44
            and page.get_by_role("link", name="Dashboard" if locale == "en-GB" else "Pulpit").first.is_visible()
        )  # the page's styles leave the header alone
        assert words in page.locator(".drop").inner_text()
        data = json.loads(page.locator("#trend-data").text_content())
        band = data["baseline"]
        recent = [p for p in data["points"] if p["to"] >= band["recent_from"] and p["n"] and not p["small"]]
        assert recent and all(p["high"] < band["low"] for p in recent)  # outside the band, interval and all
        checked(page, name, viewport[0])
        context.close()

    context, page = signed_in(browser, f"{fast_stack.base_url}/dashboard?period=week", "Store manager KRK-02",
                              DESKTOP, locale="en-GB")  # fmt: skip
    page.locator(".drop a").click()
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert urllib.parse.urlsplit(page.url).path == "/answers"
    assert query == {
        "program": ["post-purchase-nps"],
        "store": ["KRK-02"],
        "from": ["2026-11-06"],
        "to": ["2026-11-19"],
    }
    assert page.locator("ul.answers li").count() == 25  # a page of the 40 recent answers, none from the baseline
    context.close()
