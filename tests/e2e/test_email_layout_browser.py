"""The survey and alert emails in a real browser at phone and desktop widths: no sideways scrolling,
tap targets a thumb can hit, the scale labels visible, readable with images off, and every piece of
text at WCAG AA contrast. Screenshots go to tests/artifacts/ (gitignored) for a person to look at."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest

from npsloop.domain.alerts import load_alert_rules, load_routing, parse_routing
from npsloop.domain.brand import AA_NORMAL_TEXT, Brand, contrast_ratio, load_brand
from npsloop.domain.programs import load_programs
from npsloop.notices import MailSender, Notifier
from npsloop.rendering import render_invitation
from npsloop.services.alert import AlertService
from npsloop.services.digests import DigestService
from tests.conftest import ManualClock
from tests.fakes import ListParking, RecordingMailer
from tests.fakes_cases import InMemoryCases, RecordingBus, RecordingTopic, response_image, stream_record
from tests.stream_records import batch

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WIDTHS = {"320": 320, "375": 375, "600": 600, "desktop": 1280}
TAP_HEIGHT, TAP_WIDTH = 44, 40
LOGO = "https://static.example.com/acme-logo.svg"
LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32"><rect width="120" height="32" fill="#1f3a5f"/>'
    '<text x="10" y="22" fill="#fff" font-family="Arial" font-size="18" font-weight="bold">ACME</text></svg>'
)


def survey_email(locale: str, brand: Brand | None = None, program_id: str = "post-purchase-nps") -> str:
    brand = brand or load_brand()
    program = load_programs().get(program_id)
    assert program is not None
    return render_invitation(
        template_id=program.template.id,
        template_version=program.template.version,
        locale=locale,
        survey_type=program.survey,
        first_name="Anna" if locale == "pl" else "Jane",
        subject=program.subject.get(locale, brand.company),
        question=program.question.get(locale, brand.company),
        intro=program.intro.get(locale, brand.company) if program.intro else None,
        respond_url="https://feedback.example.com/r/v1.tok3n",
        unsubscribe_url="https://feedback.example.com/u/v1.tok3n",
        expires_at=datetime(2026, 12, 31, 12, tzinfo=UTC),
        time_zone="Europe/Warsaw",
        brand=brand,
    ).html


def alert_email(locale: str) -> str:
    """The email the alert service sends for a VIP detractor with an angry comment."""
    store_id, region = ("KRK-02", "malopolskie") if locale == "pl" else ("LDN-01", "london")
    raw = load_routing().model_dump(mode="json")
    # A London store that emails its owner (the shipped UK routes publish to SNS only).
    owner = {"id": "u-sam", "email": "sam@example.com"}
    raw["store"].append({"id": "LDN-01", "region": "london", "channel": "email", "owner": owner})
    store, mailer = InMemoryCases(), RecordingMailer()
    service = AlertService(
        rules=load_alert_rules(),
        routing=parse_routing(raw),
        claims=store,
        windows=store,
        cases=store,
        contacts=store,
        digests=store,
        notifier=Notifier(RecordingTopic(), mailer, MailSender("alerts@example.com", "npsloop"), load_brand()),
        bus=RecordingBus(),
        parking=ListParking(),
        public_base_url="https://feedback.example.com",
        clock=ManualClock(datetime(2026, 11, 20, 10, 30, tzinfo=UTC)),
    )
    comment = (
        "Zamówienie przyszło po dwóch tygodniach, a obsługa nie odbiera telefonu. Chcę zwrot pieniędzy, "
        "rezygnuję z karty stałego klienta. <b>Nigdy więcej!</b>"
        if locale == "pl"
        else "Two weeks late and nobody answers the phone. I want a refund, and I am cancelling my card. Never again!"
    )
    answer = response_image("inv-1", score=1, comment=comment, vip=True, store=store_id, region=region)
    service.handle(batch(stream_record(answer)))
    (mail,) = mailer.sent
    return email.message_from_bytes(mail.raw, policy=policy.default).get_body(("html",)).get_content()


# For every element with its own text: its colour and the first non-transparent background behind it.
TEXT_COLOURS_JS = """() => {
  const rgb = s => {
    const m = s.match(/[\\d.]+/g).map(Number);
    return m.length > 3 && m[3] === 0 ? null : m.slice(0, 3);
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    if (!own || box.width === 0 || box.height === 0) continue;
    let bg = null, node = el;
    while (node && !bg) { bg = rgb(getComputedStyle(node).backgroundColor); node = node.parentElement; }
    const fg = rgb(getComputedStyle(el).color);
    out.push({text: el.textContent.trim().slice(0, 40), fg: fg, bg: bg || [255, 255, 255]});
  }
  return out;
}"""


def hex_of(channels: list[float]) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in channels)


def check_layout(page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{scroll_width} px wide on a {width} px screen: sideways scrolling"
    for item in page.evaluate(TEXT_COLOURS_JS):
        ratio = contrast_ratio(hex_of(item["fg"]), hex_of(item["bg"]))
        assert ratio >= AA_NORMAL_TEXT, f"{item['text']!r}: {ratio:.2f}:1 is below WCAG AA"


def open_email(browser, html: str, width: int, images: bool = True):
    page = browser.new_page(viewport={"width": width, "height": 900})
    if images:
        page.route(LOGO, lambda route: route.fulfill(status=200, content_type="image/svg+xml", body=LOGO_SVG))
    else:
        page.route("**/*", lambda route: route.abort())  # images off: nothing but the message itself
    page.set_content(html, wait_until="load")
    return page


@pytest.mark.parametrize("locale", ["pl", "en"])
@pytest.mark.parametrize("name", list(WIDTHS))
def test_the_survey_email_fits_the_screen_with_tap_targets_a_thumb_can_hit(browser, locale, name):
    width = WIDTHS[name]
    page = open_email(browser, survey_email(locale), width)

    check_layout(page, width)
    links = page.locator("a[href*='score=']")
    assert links.count() == 11  # one link per point of the scale
    for index in range(11):
        box = links.nth(index).bounding_box()
        assert box["height"] >= TAP_HEIGHT and box["width"] >= TAP_WIDTH, (index, box)
    label = "0 = zdecydowanie nie, 10 = zdecydowanie tak" if locale == "pl" else "0 = not at all likely"
    assert page.get_by_text(label).is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"survey-email-{locale}-{name}.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("images", [True, False], ids=["images-on", "images-off"])
def test_the_survey_email_with_a_logo_reads_well_with_images_off(browser, images):
    brand = load_brand().model_copy(update={"logo_url": LOGO})
    page = open_email(browser, survey_email("pl", brand), 320, images=images)

    check_layout(page, 320)
    logo = page.locator(f"img[src='{LOGO}']")
    assert logo.get_attribute("alt") == "Acme"  # what a client shows in its place
    assert page.evaluate("document.images[0].naturalWidth > 0") is images
    assert page.get_by_text("Jak bardzo prawdopodobne jest").is_visible()
    page.screenshot(path=str(ARTIFACTS / f"survey-email-pl-320-logo-{'on' if images else 'off'}.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("program_id", ["support-ces", "store-visit-csat"])
def test_the_other_scales_fit_a_320_px_screen(browser, program_id):
    page = open_email(browser, survey_email("pl", program_id=program_id), 320)

    check_layout(page, 320)
    for index in range(page.locator("a[href*='score=']").count()):
        box = page.locator("a[href*='score=']").nth(index).bounding_box()
        assert box["height"] >= TAP_HEIGHT and box["width"] >= TAP_WIDTH
    page.close()


@pytest.mark.parametrize("locale", ["pl", "en"])
@pytest.mark.parametrize("name", list(WIDTHS))
def test_the_alert_email_fits_a_phone_with_the_case_button_easy_to_tap(browser, locale, name):
    width = WIDTHS[name]
    page = open_email(browser, alert_email(locale), width)

    check_layout(page, width)
    button = page.get_by_role("link", name="Otwórz sprawę" if locale == "pl" else "Open the case")
    assert button.bounding_box()["height"] >= TAP_HEIGHT
    assert page.locator("mark").count() >= 2  # the keywords that fired
    page.screenshot(path=str(ARTIFACTS / f"alert-email-{locale}-{name}.png"), full_page=True)
    page.close()


def digest_email(locale: str) -> str:
    """A daily digest through the services: three answers at a digest store, sent the next morning."""
    store_id, region = ("KRK-02", "malopolskie") if locale == "pl" else ("LDN-01", "london")
    raw = load_routing().model_dump(mode="json")
    owner = {"id": "u-sam", "email": "sam@example.com"}
    raw["store"].append({"id": "LDN-01", "region": "london", "channel": "email", "owner": owner})
    for entry in raw["store"]:
        if entry["id"] == store_id:
            entry.update(delivery="daily", digest_hour=8)
    routing = parse_routing(raw)
    store, mailer = InMemoryCases(), RecordingMailer()
    clock = ManualClock(datetime(2026, 11, 20, 10, 30, tzinfo=UTC))
    notifier = Notifier(RecordingTopic(), mailer, MailSender("alerts@example.com", "npsloop"), load_brand())
    service = AlertService(
        rules=load_alert_rules(),
        routing=routing,
        claims=store,
        windows=store,
        cases=store,
        contacts=store,
        digests=store,
        notifier=notifier,
        bus=RecordingBus(),
        parking=ListParking(),
        public_base_url="https://feedback.example.com",
        clock=clock,
    )
    comments = {
        "pl": [
            "Zamówienie przyszło po dwóch tygodniach, a obsługa nie odbiera telefonu. Chcę zwrot pieniędzy, "
            "rezygnuję z karty stałego klienta. <b>Nigdy więcej!</b>",
            "Kasa samoobsługowa nie działała, kolejka na pół godziny.",
            None,
        ],
        "en": [
            "Two weeks late and nobody answers the phone. I want a refund, and I am cancelling my card. Never again!",
            "The self-checkout was broken; half an hour in the queue.",
            None,
        ],
    }[locale]
    for number, (score, comment) in enumerate(zip((1, 3, 6), comments, strict=True), start=1):
        clock.set(datetime(2026, 11, 20, 9 + 2 * number, tzinfo=UTC))
        answer = response_image(
            f"inv-{number}", score=score, comment=comment, vip=number == 1, store=store_id, region=region
        )
        service.handle(batch(stream_record(answer)))
    assert mailer.sent == []
    clock.set(datetime(2026, 11, 21, 8, 10, tzinfo=UTC))  # past 08:00 in Warsaw and in London
    digests = DigestService(routing=routing, book=store, claims=store, notifier=notifier, clock=clock)
    assert digests.send()["digests_sent"] == 1
    (mail,) = mailer.sent
    return email.message_from_bytes(mail.raw, policy=policy.default).get_body(("html",)).get_content()


@pytest.mark.parametrize("locale", ["pl", "en"])
@pytest.mark.parametrize("name", ["320", "375", "600"])
def test_the_digest_email_fits_a_phone_with_every_case_link_easy_to_tap(browser, locale, name):
    width = WIDTHS[name]
    page = open_email(browser, digest_email(locale), width)

    check_layout(page, width)
    links = page.get_by_role("link", name="Otwórz sprawę" if locale == "pl" else "Open the case")
    assert links.count() == 3
    for index in range(3):
        assert links.nth(index).bounding_box()["height"] >= TAP_HEIGHT
    assert page.locator("mark").count() >= 2  # the keywords that fired, as written
    assert page.get_by_text("<b>Nigdy więcej!</b>" if locale == "pl" else "Never again!").count() <= 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"digest-email-{locale}-{name}.png"), full_page=True)
    page.close()
