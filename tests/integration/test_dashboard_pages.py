"""The dashboard page under the local stack: answers through the real path (response items -> stream ->
score function -> aggregates), read back by the web function within the visitor's scope."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from boto3.dynamodb.types import TypeSerializer

from tests.fakes_cases import response_image
from tests.web_client import WebClient

_serializer = TypeSerializer()


def answer(stack, table, clock, number: int, score: int, store: str, region: str, at: datetime | None = None) -> None:
    image = response_image(f"inv-d{number:04d}", score=score, store=store, region=region, created_at=at or clock.now())
    table.client.put_item(TableName=table.name, Item={k: _serializer.serialize(v) for k, v in image.items()})


def seed(stack, table, clock) -> None:
    for i in range(12):
        answer(stack, table, clock, i, 10 if i % 3 else 3, "KRK-02", "malopolskie")
    for i in range(12, 20):
        answer(stack, table, clock, i, 9, "WAW-01", "mazowieckie")
    stack.drain()


def tile_n(body: str, program: str = "post-purchase-nps") -> int:
    tile = body[body.index(f'data-program="{program}"') :]
    return int(re.search(r'data-n="(\d+)"', tile).group(1))


def test_a_cx_lead_sees_every_store_with_tiles_trend_data_and_drill_down_links(stack, table, clock):
    seed(stack, table, clock)
    answer(stack, table, clock, 99, 8, "GDA-09", "pomorskie")  # a store routing.toml does not name
    stack.drain()
    browser = WebClient(stack.base_url)
    browser.sign_in("cx-lead", start="/auth/sign-in?next=/dashboard")

    page = browser.go("/dashboard?period=day")

    assert page.status == 200, page.body
    assert tile_n(page.body) == 21
    assert '<option value="GDA-09">' in page.body  # the store filter offers every store with answers in scope
    assert 'href="/answers?program=post-purchase-nps&amp;period=day"' in page.body
    assert ">KRK-02</a>" in page.body and ">WAW-01</a>" in page.body
    trend = json.loads(re.search(r'<script type="application/json" id="trend-data">(.*?)</script>', page.body, re.S)[1])
    assert sum(p["n"] for p in trend["points"]) == 21 and all(p["small"] for p in trend["points"])
    assert 'data-live-src="/dashboard?period=day&amp;fragment=overview"' in page.body
    assert "/static/chart-4.6.1.umd.min.js" in page.body


def test_a_store_manager_sees_only_their_store_and_gets_403_for_another_even_by_editing_the_url(stack, table, clock):
    seed(stack, table, clock)
    browser = WebClient(stack.base_url)
    browser.sign_in("store-KRK-02", start="/auth/sign-in?next=/dashboard")

    mine = browser.go("/dashboard")
    assert mine.status == 200
    assert tile_n(mine.body) == 12  # their store, not the network's 20
    assert "network average" in mine.body and "WAW-01" not in mine.body

    for url in ("/dashboard?store=WAW-01", "/dashboard?region=mazowieckie", "/dashboard?store=WAW-01&fragment=overview",
                "/dashboard?channel=web"):  # fmt: skip
        refused = browser.go(url)
        assert refused.status == 403, url
        assert "outside your scope" in refused.body and "WAW-01</a>" not in refused.body


def test_the_overview_fragment_is_just_the_refreshable_part_and_follows_new_answers(stack, table, clock):
    seed(stack, table, clock)
    browser = WebClient(stack.base_url)
    browser.sign_in("store-KRK-02", start="/auth/sign-in?next=/dashboard")
    before = browser.go("/dashboard?fragment=overview")
    assert before.status == 200 and "<html" not in before.body and tile_n(before.body) == 12

    answer(stack, table, clock, 99, 0, "KRK-02", "malopolskie")
    stack.drain()

    assert tile_n(browser.go("/dashboard?fragment=overview").body) == 13


def test_invalid_filters_get_a_friendly_400_with_the_reason(stack, table, clock):
    browser = WebClient(stack.base_url)
    browser.sign_in("cx-lead", start="/auth/sign-in?next=/dashboard")

    cases = {
        "/dashboard?period=year": "period",
        "/dashboard?store=KRK-02&region=malopolskie": "one segment",
        "/dashboard?program=nope": "no program",
        "/dashboard?from=2026-12-01&to=2026-01-01": "after",
    }
    for url, reason in cases.items():
        reply = browser.go(url)
        assert reply.status == 400, url
        assert reason in reply.body and "cannot be shown" in reply.body


def test_the_table_toggles_between_stores_and_regions_by_a_link_and_says_when_nothing_is_tested(stack, table, clock):
    seed(stack, table, clock)
    browser = WebClient(stack.base_url)
    browser.sign_in("cx-lead", start="/auth/sign-in?next=/dashboard")

    stores = browser.go("/dashboard?period=day")
    toggle = re.search(r'<nav class="table-toggle"[^>]*>(.*?)</nav>', stores.body, re.S)[1]
    assert '<a href="/dashboard?period=day" aria-current="page">Show stores</a>' in toggle
    assert '<a href="/dashboard?period=day&amp;by=region">Show regions</a>' in toggle
    regions = browser.go("/dashboard?period=day&by=region")
    assert regions.status == 200
    assert ">malopolskie</a>: 12 answers" in regions.body and ">mazowieckie</a>: 8 answers" in regions.body
    assert 'aria-current="page">Show regions</a>' in regions.body
    # 20 answers, none in the period before: nothing is tested, and the page says so instead of "0 tested"
    for body in (stores.body, regions.body):
        assert "no change is tested yet" in body and "across the 0" not in body

    manager = WebClient(stack.base_url)
    manager.sign_in("store-KRK-02", start="/auth/sign-in?next=/dashboard")
    assert '<nav class="table-toggle"' not in manager.go("/dashboard").body  # one store: no regions to show


BASELINE_DAY = datetime(2026, 10, 1, 12, tzinfo=UTC)  # the trend rule's baseline: 2026-09-11..11-05
RECENT_DAY = datetime(2026, 11, 12, 12, tzinfo=UTC)  # its recent window: 2026-11-06..11-19 (today 11-20)


def seed_a_drop(stack, table, clock) -> None:
    """KRK-02 at NPS 80 over the baseline and -27 over the last 14 days (7 promoters, 15 detractors of 30);
    WAW-01 steady."""
    for i in range(50):
        answer(
            stack,
            table,
            clock,
            i,
            (10, 10, 10, 10, 10, 10, 10, 10, 10, 3)[i % 10],
            "KRK-02",
            "malopolskie",
            BASELINE_DAY,
        )
    for i in range(50, 80):
        answer(stack, table, clock, i, (10, 2, 2, 8)[i % 4], "KRK-02", "malopolskie", RECENT_DAY)
    for i in range(80, 150):
        answer(
            stack,
            table,
            clock,
            i,
            (10, 9, 7, 3)[i % 4],
            "WAW-01",
            "mazowieckie",
            BASELINE_DAY if i < 115 else RECENT_DAY,
        )
    stack.drain()


def chart(body: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="trend-data">(.*?)</script>', body, re.S)[1])


def test_the_trend_chart_carries_the_trend_alerts_baseline_and_says_when_the_drop_is_real(stack, table, clock):
    seed_a_drop(stack, table, clock)
    manager = WebClient(stack.base_url)
    manager.sign_in("store-KRK-02", start="/auth/sign-in?next=/dashboard")

    page = manager.go("/dashboard?period=week")

    assert page.status == 200, page.body
    data = chart(page.body)["baseline"]
    assert (data["recent_from"], data["recent_to"]) == ("2026-11-06", "2026-11-19")
    assert data["low"] < data["score"] == 80 < data["high"]
    assert data["label"] == "baseline: 8 weeks before the last 14 days"
    assert "Real drop:</strong> NPS fell by 107 points here, to \u221227 from 30 answers in the last 14" in page.body
    assert "p &lt; 0.001, significant after Benjamini-Hochberg" in page.body
    assert (
        'href="/answers?program=post-purchase-nps&amp;from=2026-11-06&amp;to=2026-11-19&amp;store=KRK-02"' in page.body
    )
    # without script, the same baseline in the table under the chart
    foot = re.search(r"<tfoot>(.*?)</tfoot>", page.body, re.S)[1]
    assert "Baseline (11 Sep 2026 – 5 Nov 2026)</th><td>80</td>" in foot and "<td>50</td>" in foot
    assert "Last 14 days (6 Nov 2026 – 19 Nov 2026)</th><td>\u221227</td>" in foot
    assert "Baseline" not in manager.go("/dashboard?fragment=overview").body  # the polled part runs no scan

    polish = manager.go("/dashboard?period=week&lang=pl").body
    assert "Rzeczywisty spadek:</strong> NPS spadł tu o 107 pkt" in polish and "p &lt; 0,001" in polish
    assert "Poziom odniesienia (11.09.2026 – 05.11.2026)" in polish
    assert chart(polish)["baseline"]["label"] == "poziom odniesienia: 8 tygodni przed ostatnimi 14 dniami"
    ranking = re.search(r'<table class="ranking">(.*?)</table>', polish, re.S)[1]
    assert re.search(r"<td>od \u2212?\d+ do \d+</td>", ranking)  # the interval as a Polish speaker says it
    assert '<th scope="row">09.11.2026 – 15.11.2026</th>' in polish  # a week by its days, Polish dates
    assert "sklep KRK-02" in polish and "store KRK-02" not in polish

    lead = WebClient(stack.base_url)
    lead.sign_in("cx-lead", start="/auth/sign-in?next=/dashboard")
    network = lead.go("/dashboard?period=week").body
    assert "The trend alert finds a real drop at:" in network
    assert '<a href="/dashboard?store=KRK-02">store KRK-02</a>' in network
    assert "store WAW-01" not in network
    assert "The trend alert watches each store, region and channel, not this view" in network  # the network
    steady = lead.go("/dashboard?period=week&store=WAW-01").body
    assert "No real drop" in steady and "Real drop:" not in steady


def test_the_trend_alerts_last_claim_is_read_back_for_the_dashboard(stack, table, clock):
    from datetime import timedelta

    from npsloop.adapters.dynamodb_cases import DynamoCases

    claims = DynamoCases(table.name, client=table.client)
    segment = "TREND#post-purchase-nps#store#KRK-02"
    assert claims.last_done(segment, "ALERT#segment-trend#") is None
    first, second = clock.now() - timedelta(days=20), clock.now() - timedelta(days=3)
    for block, at in ((9, first), (10, second)):
        claims.claim(segment, f"ALERT#segment-trend#{block}", "t", at, at + timedelta(hours=2))
        claims.complete(segment, f"ALERT#segment-trend#{block}", "t", at)
    claims.claim(segment, "ALERT#segment-trend#11", "t", clock.now(), clock.now() + timedelta(hours=2))  # pending
    assert claims.last_done(segment, "ALERT#segment-trend#") == second  # the newest done, not the pending one
