"""A scheduled report email in a real browser at a phone's width, with images on (the inline PNG charts
served as a mail client shows ``cid:`` parts) and off (alt text and the tables beside the charts): no
sideways scrolling, WCAG AA text, Polish in the charts. Screenshots go to tests/artifacts/ to look at."""

from __future__ import annotations

import email
import re
from datetime import date, timedelta
from email import policy

import pytest

from npsloop.domain.alerts import load_routing
from npsloop.services.answers import AnswerService
from npsloop.services.funnel import FunnelService
from npsloop.services.reports import AnswerCommentSource, ServiceFunnelSource
from tests.e2e.test_email_layout_browser import ARTIFACTS, check_layout
from tests.fakes_answers import InMemoryAnswers, answer
from tests.unit.test_report_funnel_and_comments import _funnel_day
from tests.unit.test_report_service import PEOPLE, _answers, _plan, _worker

pytestmark = pytest.mark.browser
CID = re.compile(r'src="cid:([^"]+)"')
MAIL = "https://mail.example/cid/"  # where the "mail client" serves the message's inline parts


@pytest.fixture
def world():
    from datetime import UTC, datetime

    from npsloop.clock import ManualClock
    from npsloop.domain.programs import load_programs
    from tests.fakes_score import InMemoryAggregates

    aggregates = InMemoryAggregates()
    for week in range(12):
        day = date(2026, 11, 23) - timedelta(weeks=week)
        _answers(aggregates, "WAW-01", "mazowieckie", day, [10] * (30 + week) + [9] * 10 + [3] * (7 + week % 4))
        _answers(aggregates, "online-pl", "mazowieckie", day, [10] * 6 + [6] * 4 + [1] * 2)  # a small sample
        _answers(aggregates, "KRK-02", "malopolskie", day, [10] * 5 + [2] * 25)
    for store, region, sent in (
        ("WAW-01", "mazowieckie", 420),
        ("online-pl", "mazowieckie", 35),
        ("KRK-02", "malopolskie", 96),
    ):
        for day in (date(2026, 11, 3), date(2026, 11, 24)):
            _funnel_day(aggregates, store, region, day, invited=sent, delivered=sent - sent // 20,
                        answered=sent // 4, bounced=sent // 20, complained=1)  # fmt: skip
    clock = ManualClock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    index = InMemoryAnswers(
        [
            answer(1, at, "WAW-01", 1, "Czekałam 40 minut przy kasie, a pani Joanna Wiśniewska tylko wzruszyła "
                   "ramionami. Proszę o kontakt: 601 234 567.", region="mazowieckie"),
            answer(2, at, "online-pl", 3, "Paczka przyszła uszkodzona, zwrot trwa już dwa tygodnie.",
                   region="mazowieckie"),
            answer(3, at, "WAW-01", 10, "Świetne doradztwo przy wyborze roweru, dziękuję!", region="mazowieckie"),
            answer(4, at, "KRK-02", 2, "Nobody answered the phone at the store for two days.", region="malopolskie"),
            answer(5, at, "KRK-02", 9, "Quick pickup, friendly staff.", region="malopolskie"),
        ]
    )  # fmt: skip
    return {"aggregates": aggregates, "clock": clock, "programs": load_programs(), "answers": index}


def report(world, report_id: str, subject: str) -> tuple[str, dict[str, bytes]]:
    """The HTML part and the inline images (Content-ID -> PNG) of one recipient's report."""
    (job,) = [j for j in _plan(world, report_id, PEOPLE) if j.subject == subject]
    worker, parts = _worker(
        world,
        funnel=ServiceFunnelSource(FunnelService(reader=world["aggregates"])),
        comments=AnswerCommentSource(AnswerService(world["answers"], world["programs"], load_routing())),
    )
    assert worker.handle(job) == "sent"
    message = email.message_from_bytes(parts["mailer"].sent[0].raw, policy=policy.default)
    images = {p["Content-ID"].strip("<>"): p.get_content() for p in message.walk() if p["Content-ID"]}
    return message.get_body(("html",)).get_content(), images


def open_report(browser, html: str, images: dict[str, bytes], width: int, shown: bool):
    page = browser.new_page(viewport={"width": width, "height": 900})
    if shown:

        def serve(route) -> None:
            route.fulfill(status=200, content_type="image/png", body=images[route.request.url[len(MAIL) :]])

        page.route(f"{MAIL}**", serve)
    else:
        page.route("**/*", lambda route: route.abort())  # images off: the client loads nothing
    page.set_content(CID.sub(lambda m: f'src="{MAIL}{m.group(1)}"', html), wait_until="load")
    return page


@pytest.mark.parametrize("shown", [True, False], ids=["images-on", "images-off"])
@pytest.mark.parametrize(
    ("report_id", "subject", "name"),
    [("region-monthly", "u-maz", "region-pl"), ("store-weekly", "u-krk", "store-en")],
)
def test_a_report_reads_on_a_375_px_phone_with_images_on_and_off(browser, world, report_id, subject, name, shown):
    html, images = report(world, report_id, subject)
    assert images and len(CID.findall(html)) >= len(images)
    page = open_report(browser, html, images, 375, shown)

    check_layout(page, 375)
    loaded = page.evaluate("[...document.images].map(i => i.naturalWidth > 0)")
    assert loaded and all(loaded) is shown and any(loaded) is shown
    for img in page.locator("img").all():
        assert img.get_attribute("alt"), "every chart names itself when images are off"
        if shown:
            assert img.bounding_box()["width"] <= 375 - 2 * 16  # inside the card's padding
    # The numbers read without the charts: the tables are there either way.
    rows = page.locator("table[role=presentation] tr").count()
    assert rows >= 5  # the trend table (header and 4 periods) at least
    if name == "region-pl":
        assert page.get_by_text("Porównanie").first.is_visible() and page.get_by_text("WAW-01").first.is_visible()
        assert page.get_by_text("Odsetek odpowiedzi (z wysłanych)").first.is_visible()
        assert (
            page.get_by_text("Komentarze").first.is_visible() and page.get_by_text("[person_name]").first.is_visible()
        )
        assert "Wiśniewska" not in page.content() and "601 234 567" not in page.content()
    else:
        assert page.get_by_text("Invitations sent").first.is_visible()
        assert page.get_by_text("Nobody answered the phone").first.is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"report-{name}-375-{'on' if shown else 'off'}.png"), full_page=True)
    page.close()


def test_a_regional_report_on_a_desktop_keeps_its_600_px_column(browser, world):
    html, images = report(world, "region-monthly", "u-maz")
    page = open_report(browser, html, images, 1280, True)

    check_layout(page, 1280)
    widths = page.evaluate("[...document.querySelectorAll('table')].map(t => t.getBoundingClientRect().width)")
    assert max(w for w in widths if w < 1280) <= 600
    page.screenshot(path=str(ARTIFACTS / "report-region-pl-desktop.png"), full_page=True)
    page.close()


def test_the_charts_pngs_carry_polish_text(world, tmp_path):
    _html, images = report(world, "region-monthly", "u-maz")
    ARTIFACTS.mkdir(exist_ok=True)
    for n, png in enumerate(images.values()):
        (ARTIFACTS / f"report-region-pl-chart-{n}.png").write_bytes(png)
    assert len(images) >= 3  # the trend, the region's stores and the funnel
