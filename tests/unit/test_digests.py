"""Digests with fakes: a digest entry's alerts are kept instead of emailed, and the scheduled run sends one
email per recipient and period with all of them - never empty, never twice - in the recipient's language."""

from __future__ import annotations

import email
import tomllib
from datetime import UTC, date, datetime, timedelta
from email import policy

import pytest

from npsloop.clock import ManualClock
from npsloop.domain.alerts import DEFAULT_ROUTING_FILE, AlertConfigError, load_alert_rules, load_routing, parse_routing
from npsloop.domain.brand import load_brand
from npsloop.domain.digests import Delivery, DigestItem
from npsloop.domain.programs import load_programs
from npsloop.notices import MailSender, Notifier, _count_alerts
from npsloop.services.alert import AlertService
from npsloop.services.digests import DigestService, DigestsIncomplete
from npsloop.services.trends import TrendService
from tests.fakes import ListParking, RecordingMailer
from tests.fakes_cases import InMemoryCases, RecordingBus, RecordingTopic, response_image, stream_record
from tests.fakes_score import InMemoryAggregates
from tests.stream_records import batch
from tests.unit.test_trend_alert import LAST_DAY, simulate

LUBLIN = {"store": "LUB-01", "region": "lubelskie", "channel": "web"}  # lubelskie: a daily digest at 08:00


def warsaw(*args) -> datetime:
    """A Warsaw wall-clock time in December (CET, UTC+1) as UTC."""
    return datetime(*args, tzinfo=UTC) - timedelta(hours=1)


def raw_routing() -> dict:
    return tomllib.loads(DEFAULT_ROUTING_FILE.read_text(encoding="utf-8"))


class World:
    def __init__(self, routing=None) -> None:
        self.clock = ManualClock(warsaw(2026, 12, 1, 9, 0))
        self.store = InMemoryCases()
        self.topic = RecordingTopic()
        self.mailer = RecordingMailer()
        self.routing = routing or load_routing()
        notifier = Notifier(self.topic, self.mailer, MailSender("alerts@example.com", "npsloop"), load_brand())
        self.alert = AlertService(
            rules=load_alert_rules(),
            routing=self.routing,
            claims=self.store,
            windows=self.store,
            cases=self.store,
            contacts=self.store,
            digests=self.store,
            notifier=notifier,
            bus=RecordingBus(),
            parking=ListParking(),
            public_base_url="https://feedback.example.com",
            clock=self.clock,
        )
        self.digests = DigestService(
            routing=self.routing, book=self.store, claims=self.store, notifier=notifier, clock=self.clock
        )

    def answer(self, invitation_id: str, score: int, comment: str | None, at: datetime, context=LUBLIN) -> None:
        self.clock.set(at)
        image = response_image(invitation_id, score=score, comment=comment, created_at=at)
        image["context"] = dict(context)
        assert self.alert.handle(batch(stream_record(image))) == {"batchItemFailures": []}

    def run_at(self, at: datetime) -> dict[str, int]:
        self.clock.set(at)
        return self.digests.send()

    def mails(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(m.raw, policy=policy.default) for m in self.mailer.sent]


@pytest.fixture
def world() -> World:
    return World()


# -- routing.toml --------------------------------------------------------------------------------


def test_an_entry_chooses_its_delivery_and_the_others_stay_immediate():
    routing = load_routing()

    lublin, mazowsze = routing.route({"region": "lubelskie"}), routing.route({"region": "mazowieckie"})
    wroclaw = routing.route({"region": "dolnoslaskie"})

    assert (lublin.digest.delivery, lublin.digest.hour, lublin.owner.id) == (Delivery.DAILY, 8, "u-anna.nowak")
    assert mazowsze.immediate and mazowsze.owner.id == "u-anna.nowak"  # the same owner, another entry
    assert (wroclaw.digest.delivery, wroclaw.digest.weekday) == (Delivery.WEEKLY, 1)
    assert sorted((r.owner.id, r.digest.delivery.value) for r in routing.digest_routes()) == [
        ("u-agnieszka.zielinska", "weekly"),
        ("u-anna.nowak", "daily"),
    ]


def test_a_store_inherits_its_regions_digest_and_an_hour_of_0_is_kept():
    raw = raw_routing()
    raw["region"][[r["id"] for r in raw["region"]].index("lubelskie")]["digest_hour"] = 0
    raw["store"].append({"id": "LUB-01", "region": "lubelskie", "owner": {"id": "u-lub", "email": "lub@example.com"}})

    route = parse_routing(raw).route({"store": "LUB-01"})

    assert (route.owner.id, route.digest.delivery, route.digest.hour) == ("u-lub", Delivery.DAILY, 0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"delivery": "hourly"}, "region[7].delivery: Input should be 'immediate', 'daily' or 'weekly'"),
        ({"digest_hour": 24}, "region[7].digest_hour: Input should be less than or equal to 23"),
        ({"digest_weekday": 3}, "digest_weekday is for delivery = \"weekly\", not 'daily'"),
    ],
)
def test_a_bad_delivery_setting_names_the_entry_and_field(change, message):
    raw = raw_routing()
    raw["region"][7].update(change)  # lubelskie

    with pytest.raises(AlertConfigError) as error:
        parse_routing(raw)

    assert message in str(error.value)


# -- recording -----------------------------------------------------------------------------------


def test_a_digest_entrys_alert_is_kept_for_the_digest_not_emailed_and_the_topic_still_gets_it(world):
    world.answer("inv-1", 2, "Kolejka!", warsaw(2026, 12, 1, 9, 0))
    world.alert.handle(batch(stream_record(response_image("inv-1", score=2, comment="Kolejka!") | {"context": LUBLIN})))

    assert world.mailer.sent == []
    assert [m.attributes["rule"] for m in world.topic.messages] == ["detractor"]  # SNS stays immediate
    (digest,) = world.store.digests
    assert digest == "DIGEST#u-anna.nowak#2026-12-02T07:00Z"  # the send at 08:00 Warsaw the next morning
    (item,) = world.store.digests[digest].values()  # a redelivered record writes the same item
    assert (item.ref, item.score, item.comment, item.store) == ("inv-1", 2, "Kolejka!", "LUB-01")
    assert item.case_url == "https://feedback.example.com/cases/inv-1" and item.due_at is not None


def test_an_immediate_entry_still_emails_at_once(world):
    world.answer("inv-9", 2, None, warsaw(2026, 12, 1, 9, 0), context={"store": "WAW-01", "region": "mazowieckie"})

    assert len(world.mailer.sent) == 1 and world.store.digests == {}


# -- sending -------------------------------------------------------------------------------------


def test_the_run_at_the_digest_hour_sends_one_email_with_every_answer_of_the_day_once(world):
    world.answer("inv-1", 2, "Długa kolejka", warsaw(2026, 12, 1, 9, 0))
    world.answer("inv-2", 0, "Rezygnuję z karty", warsaw(2026, 12, 1, 14, 30))
    world.answer("inv-3", 5, None, warsaw(2026, 12, 2, 7, 59))
    world.answer("inv-4", 1, "Po ósmej", warsaw(2026, 12, 2, 8, 1))  # tomorrow's digest

    early = world.run_at(warsaw(2026, 12, 2, 7, 50))
    first = world.run_at(warsaw(2026, 12, 2, 8, 5))
    again = world.run_at(warsaw(2026, 12, 2, 8, 5))  # a redelivered run
    later = world.run_at(warsaw(2026, 12, 2, 8, 20))

    assert early == {"digests_sent": 0, "digests_skipped": 2}  # yesterday's period had nothing
    assert first["digests_sent"] == 1 and again["digests_sent"] == 0 and later["digests_sent"] == 0
    (mail,) = world.mails()
    assert mail["To"] == "anna.nowak@example.com"
    assert mail["Subject"] == "Podsumowanie dnia 02.12.2026: 3 powiadomienia"
    text = mail.get_body(("plain",)).get_content()
    assert "Długa kolejka" in text and "Rezygnuję z karty" in text and "Po ósmej" not in text
    assert text.index("Rezygnuję") < text.index("Długa kolejka")  # the urgent keyword alert first
    assert text.count("https://feedback.example.com/cases/inv-") == 3
    html = mail.get_body(("html",)).get_content()
    assert '<meta name="viewport"' in html and "<mark" in html and "Rezygnuję" in html

    tomorrow = world.run_at(warsaw(2026, 12, 3, 8, 5))
    assert tomorrow["digests_sent"] == 1 and "Po ósmej" in world.mails()[1].get_body(("plain",)).get_content()


def test_a_period_with_no_alerts_sends_nothing(world):
    assert world.run_at(warsaw(2026, 12, 2, 8, 5)) == {"digests_sent": 0, "digests_skipped": 2}
    assert world.mailer.sent == []


def test_a_digest_that_failed_to_send_goes_out_on_the_next_run_and_then_never_again(world):
    world.answer("inv-1", 2, "Kolejka", warsaw(2026, 12, 1, 9, 0))
    world.mailer.unavailable_with = "SendingPausedException"

    with pytest.raises(DigestsIncomplete):
        world.run_at(warsaw(2026, 12, 2, 8, 5))
    world.mailer.unavailable_with = None
    retried = world.run_at(warsaw(2026, 12, 2, 8, 20))  # the claim's 90 s lease ran out
    once_more = world.run_at(warsaw(2026, 12, 2, 8, 35))

    assert (retried["digests_sent"], once_more["digests_sent"]) == (1, 0)
    assert len(world.mailer.sent) == 1


def test_the_daily_digest_across_the_spring_change_goes_at_8_summer_time():
    world = World()
    world.answer("inv-1", 2, "Kolejka", datetime(2026, 3, 28, 12, 0, tzinfo=UTC))  # Saturday 13:00 CET

    at_7_utc = world.run_at(datetime(2026, 3, 29, 6, 5, tzinfo=UTC))  # 08:05 CEST on Sunday: the send
    assert at_7_utc["digests_sent"] == 1
    assert "29.03.2026" in world.mails()[0]["Subject"]


def test_a_weekly_digest_in_english_names_the_week_and_counts_in_english():
    raw = raw_routing()
    wroclaw = raw["region"][[r["id"] for r in raw["region"]].index("dolnoslaskie")]
    wroclaw.update(language="en", digest_weekday=3, digest_hour=7)
    world = World(parse_routing(raw))
    where = {"store": "WRO-01", "region": "dolnoslaskie"}
    world.answer("inv-1", 2, "Slow", warsaw(2026, 12, 1, 9, 0), context=where)  # Tuesday

    tuesday_night = world.run_at(warsaw(2026, 12, 1, 23, 0))
    wednesday = world.run_at(warsaw(2026, 12, 2, 7, 5))

    assert (tuesday_night["digests_sent"], wednesday["digests_sent"]) == (0, 1)
    (mail,) = world.mails()
    assert mail["Subject"] == "Weekly digest to 02 Dec 2026: 1 alert"
    assert mail["To"] == "agnieszka.zielinska@example.com"


@pytest.mark.parametrize(
    ("count", "pl", "en"),
    [(1, "1 powiadomienie", "1 alert"), (3, "3 powiadomienia", "3 alerts"), (5, "5 powiadomień", "5 alerts"),
     (12, "12 powiadomień", "12 alerts"), (22, "22 powiadomienia", "22 alerts")],
)  # fmt: skip
def test_the_count_has_the_polish_plural_forms(count, pl, en):
    forms_pl = {"one": "{n} powiadomienie", "few": "{n} powiadomienia", "many": "{n} powiadomień"}

    assert _count_alerts(count, forms_pl, "pl") == pl
    assert _count_alerts(count, {"one": "{n} alert", "many": "{n} alerts"}, "en") == en


# -- the trend alert -----------------------------------------------------------------------------


def test_a_trend_alert_on_a_digest_entry_goes_into_the_digest():
    raw = raw_routing()
    krk = raw["store"][[s["id"] for s in raw["store"]].index("KRK-02")]
    krk.update(delivery="daily", digest_hour=8)
    world = World(parse_routing(raw))
    aggregates = InMemoryAggregates()
    simulate(aggregates, dropping="KRK-02", drop_from=LAST_DAY - timedelta(days=13))
    trends = TrendService(
        programs=load_programs(),
        rules=load_alert_rules(),
        routing=world.routing,
        aggregates=aggregates,
        claims=world.store,
        notifier=Notifier(world.topic, world.mailer, MailSender("alerts@example.com", "npsloop"), load_brand()),
        clock=world.clock,
        digests=world.store,
    )
    world.clock.set(datetime(2026, 12, 1, 5, 0, tzinfo=UTC))

    assert trends.scan() == {"drops": 1, "alerts_sent": 1}
    assert world.mailer.sent == [] and len(world.topic.messages) == 1  # KRK-02 routes to "both"
    sent = world.run_at(warsaw(2026, 12, 1, 8, 5))

    assert sent["digests_sent"] == 1
    (mail,) = world.mails()
    assert mail["To"] == "ewa.mazur@example.com"
    text = mail.get_body(("plain",)).get_content()
    assert "NPS fell" in text and "Wyraźny spadek ocen" in text and "Sprawa nie została otwarta" in text


def test_a_digest_item_keeps_no_contact_details():
    assert not {"contact", "phone", "email", "customer_id"} & set(DigestItem.model_fields)


def test_digest_periods_are_named_by_the_local_send_date():
    route = load_routing().route({"region": "lubelskie"})

    period = route.digest.period_of(warsaw(2026, 12, 1, 9, 0), route.time_zone)

    assert period.key == "daily#2026-12-02" and period.end.date() == date(2026, 12, 2)


def test_runs_between_send_times_read_no_digest_once_each_current_digest_is_settled(world):
    reads: list[str] = []
    read_digest = world.store.read_digest
    world.store.read_digest = lambda digest: reads.append(digest) or read_digest(digest)
    world.answer("inv-1", 2, "Kolejka", warsaw(2026, 12, 1, 9, 0))

    first = world.run_at(warsaw(2026, 12, 2, 8, 5))  # Lublin's digest goes out; the other one is empty
    assert (first, len(reads)) == ({"digests_sent": 1, "digests_skipped": 1}, 2)
    idle = [world.run_at(warsaw(2026, 12, 2, 8, 5) + timedelta(minutes=15 * n)) for n in range(1, 8)]
    world.answer("inv-2", 1, "Znowu kolejka", warsaw(2026, 12, 2, 10, 0))  # into tomorrow's digest
    tomorrow = world.run_at(warsaw(2026, 12, 3, 8, 5))

    assert idle == [{"digests_sent": 0, "digests_skipped": 2}] * 7
    assert tomorrow == {"digests_sent": 1, "digests_skipped": 1} and len(world.mailer.sent) == 2
    assert reads == [  # each digest read once: the weekly one is still this week's, settled empty
        "DIGEST#u-agnieszka.zielinska#2026-11-30T07:00Z",
        "DIGEST#u-anna.nowak#2026-12-02T07:00Z",
        "DIGEST#u-anna.nowak#2026-12-03T07:00Z",
    ]


def test_a_digest_whose_send_failed_is_read_again_by_the_next_run(world):
    reads: list[str] = []
    read_digest = world.store.read_digest
    world.store.read_digest = lambda digest: reads.append(digest) or read_digest(digest)
    world.answer("inv-1", 2, "Kolejka", warsaw(2026, 12, 1, 9, 0))
    world.mailer.unavailable_with = "SendingPausedException"
    with pytest.raises(DigestsIncomplete):
        world.run_at(warsaw(2026, 12, 2, 8, 5))
    world.mailer.unavailable_with = None

    retried = world.run_at(warsaw(2026, 12, 2, 8, 20))

    assert retried == {"digests_sent": 1, "digests_skipped": 1}
    assert reads[2:] == ["DIGEST#u-anna.nowak#2026-12-02T07:00Z"]  # the failed one alone is read again
