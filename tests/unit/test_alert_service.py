"""The alert service with fakes: one alert per response and rule under replay and concurrency, poison
records parked, failures reported so Lambda retries from them."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy

import pytest

from npsloop.domain.alerts import load_alert_rules, load_routing
from npsloop.domain.brand import load_brand
from npsloop.notices import MailSender, Notifier
from npsloop.services.alert import AlertService
from tests.conftest import at_once
from tests.fakes import ListParking, RecordingMailer
from tests.fakes_cases import InMemoryCases, RecordingBus, RecordingTopic, response_image, stream_record
from tests.stream_records import batch

BASE = "https://npsloop.example.com"


class World:
    def __init__(self, clock, rules=None) -> None:
        self.clock = clock
        self.store = InMemoryCases()
        self.topic = RecordingTopic()
        self.bus = RecordingBus()
        self.mailer = RecordingMailer()
        self.parking = ListParking()
        self.service = AlertService(
            rules=rules or load_alert_rules(),
            routing=load_routing(),
            claims=self.store,
            windows=self.store,
            cases=self.store,
            contacts=self.store,
            digests=self.store,
            notifier=Notifier(self.topic, self.mailer, MailSender("alerts@example.com", "npsloop"), load_brand()),
            bus=self.bus,
            parking=self.parking,
            public_base_url=BASE,
            clock=clock,
        )

    def alerts(self) -> list[tuple[str, str]]:
        return sorted((m.body["invitation_id"], m.attributes["rule"]) for m in self.topic.messages)


@pytest.fixture
def world(clock) -> World:
    return World(clock)


def test_a_detractor_opens_a_case_alerts_the_owner_and_tells_the_bus(world):
    result = world.service.handle(batch(stream_record(response_image("inv-1", score=2, comment="Kolejka!"))))

    assert result == {"batchItemFailures": []}
    (message,) = world.topic.messages
    assert message.attributes == {
        "kind": "alert",
        "rule": "detractor",
        "store": "WAW-02",
        "region": "mazowieckie",
        "team": "pl-central",
        "severity": "normal",
    }
    body = message.body
    assert (body["score"], body["comment"], body["customer_id"]) == (2, "Kolejka!", "C-inv-1")
    assert body["context"] == {"store": "WAW-02", "region": "mazowieckie", "channel": "web"}
    assert body["case_url"] == f"{BASE}/cases/inv-1"
    assert "email" not in str(body).lower()  # the customer reference is the id; the owner by id too
    case = world.store.get("inv-1")
    assert (case.owner.id, case.status.value, case.severity.value) == ("u-anna.nowak", "open", "normal")
    assert [e.detail_type for e in world.bus.events] == ["CaseOpened", "DetractorReceived"]
    assert world.bus.of("DetractorReceived")[0]["event_id"] == "npsloop:DetractorReceived:inv-1"
    (mail,) = world.mailer.sent  # mazowieckie routes to "both"
    parsed = email.message_from_bytes(mail.raw, policy=policy.default)
    assert parsed["To"] == "anna.nowak@example.com"
    assert "Kolejka!" in parsed.get_body(("plain",)).get_content()


def test_the_html_email_escapes_the_comment(world):
    world.service.handle(batch(stream_record(response_image(score=1, comment="<script>alert(1)</script> oszustwo"))))
    html = {
        email.message_from_bytes(m.raw, policy=policy.default).get_body(("html",)).get_content()
        for m in world.mailer.sent
    }
    assert all("&lt;script&gt;" in body and "<script>" not in body for body in html)


def test_a_promoter_without_keywords_alerts_nobody(world):
    world.service.handle(batch(stream_record(response_image(score=10, comment="Super"))))
    assert (world.topic.messages, world.bus.events, world.store.cases) == ([], [], {})


def test_the_same_batch_twice_gives_one_alert_per_rule_and_response(world):
    records = batch(
        stream_record(response_image("inv-1", score=1, comment="Chcę zwrot pieniędzy", vip=True)),
        stream_record(response_image("inv-2", score=5)),
    )
    world.service.handle(records)
    world.service.handle(records)

    assert world.alerts() == [
        ("inv-1", "comment-keyword"),
        ("inv-1", "detractor"),
        ("inv-1", "vip-not-promoter"),
        ("inv-2", "detractor"),
    ]
    assert len(world.bus.of("CaseOpened")) == 2
    assert len(world.bus.of("DetractorReceived")) == 2
    assert world.store.get("inv-1").severity.value == "high"


def test_concurrent_deliveries_give_one_alert_per_rule(world):
    records = batch(stream_record(response_image("inv-1", score=0, comment="refund")))
    results, errors = at_once(6, lambda: world.service.handle(records))
    retried = [world.service.handle(records) for r in results if r["batchItemFailures"]]

    assert errors == []
    assert all(r == {"batchItemFailures": []} for r in retried)
    assert world.alerts() == [("inv-1", "comment-keyword"), ("inv-1", "detractor")]
    assert len(world.bus.of("CaseOpened")) == 1


def test_a_modify_that_changes_neither_score_nor_comment_alerts_nothing(world):
    old = response_image("inv-1", score=9)
    world.service.handle(batch(stream_record({**old, "version": 2, "locale": "en"}, old=old)))
    assert world.topic.messages == []


def test_a_changed_score_that_becomes_a_detractor_alerts_once(world):
    old = response_image("inv-1", score=9)
    new = {**response_image("inv-1", score=4), "version": 2}
    world.service.handle(batch(stream_record(old)))
    world.service.handle(batch(stream_record(new, old=old)))
    world.service.handle(batch(stream_record({**new, "score": 3, "version": 3}, old=new)))
    assert world.alerts() == [("inv-1", "detractor")]


def test_a_poison_record_among_many_is_parked_and_the_rest_alerted(world):
    good = [stream_record(response_image(f"inv-{i}", score=2, store=f"S-{i}")) for i in range(24)]
    broken = stream_record(response_image("inv-bad", score=2))
    broken["dynamodb"]["NewImage"]["score"] = {"S": "terrible"}
    unreadable = {"eventName": "INSERT", "dynamodb": {}}
    result = world.service.handle(batch(*good[:10], broken, *good[10:20], unreadable, *good[20:]))

    assert result == {"batchItemFailures": []}
    assert len(world.alerts()) == 24
    assert [reason.split(":")[0] for _, reason in world.parking.parked] == ["not a valid response", "unreadable record"]
    assert "score" in world.parking.parked[0][1]


def test_a_failure_reports_that_record_and_stops_the_batch_then_the_retry_finishes(world):
    records = [stream_record(response_image(f"inv-{i}", score=2, store=f"S-{i}")) for i in range(3)]
    world.store.fail_creates = 0
    world.topic.failures = 0
    world.service.handle(batch(records[0]))
    world.topic.failures = 1
    result = world.service.handle(batch(*records))

    assert result == {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
    assert world.alerts() == [("inv-0", "detractor")]  # nothing after the failed record was attempted
    # Lambda retries from the failed record once the claim's lease has run out.
    world.clock.advance(timedelta(minutes=2))
    assert world.service.handle(batch(*records[1:])) == {"batchItemFailures": []}
    assert world.alerts() == [("inv-0", "detractor"), ("inv-1", "detractor"), ("inv-2", "detractor")]


def test_three_detractors_within_a_day_at_one_store_fire_one_cluster_alert(clock):
    # The shipped alerts.toml turns the raw-count rule off ([trend] replaces it); the mechanism stays.
    shipped = load_alert_rules()
    world = World(clock, shipped.model_copy(update={"cluster": shipped.cluster.model_copy(update={"enabled": True})}))
    start = clock.now()
    for i, hours in enumerate((0, 5, 20, 22)):
        image = response_image(f"inv-{i}", score=3, store="KRK-01", region="malopolskie")
        image["created_at"] = (start + timedelta(hours=hours)).isoformat()
        world.service.handle(batch(stream_record(image)))
    image = response_image("inv-late", score=3, store="KRK-01", region="malopolskie")
    image["created_at"] = (start + timedelta(hours=60)).isoformat()
    world.service.handle(batch(stream_record(image)))

    clusters = [i for i, rule in world.alerts() if rule == "store-cluster"]
    assert clusters == ["inv-2"]
    assert "store-cluster" not in world.store.get("inv-2").rules  # the cluster rule does not open a case


def test_a_case_counts_its_sla_in_its_regions_calendar(world, clock):
    # GIVEN Friday 27 Nov 2026, 15:00 in the UK; Monday 30 Nov is St Andrew's Day, a Scottish bank holiday
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))

    # WHEN a Glasgow and a London detractor open cases (normal severity: 16 working hours)
    world.service.handle(
        batch(
            stream_record(response_image("inv-gla", score=3, store="GLA-01", region="scotland")),
            stream_record(response_image("inv-lon", score=3, store="LON-01", region="london")),
        )
    )

    # THEN London's SLA runs through Monday; Glasgow's skips it
    london, glasgow = world.store.get("inv-lon"), world.store.get("inv-gla")
    assert (london.calendar, glasgow.calendar) == ("england-wales", "scotland")
    assert london.sla_due_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert glasgow.sla_due_at == datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def test_an_open_case_follows_the_customers_changed_answer_with_the_change_in_its_history(world):
    # GIVEN a case opened by a 5 with a comment
    first = response_image("inv-1", score=5, comment="Kolejka")
    world.service.handle(batch(stream_record(first)))

    # WHEN the customer changes the answer to 2 with another comment (and Lambda redelivers it)
    changed = response_image("inv-1", score=2, comment="Kolejka i bałagan", version=2)
    world.clock.advance(timedelta(hours=1))
    world.service.handle(batch(stream_record(changed, old=first)))
    world.service.handle(batch(stream_record(changed, old=first)))

    # THEN the case shows the new answer, and its history the old one, once
    case = world.store.get("inv-1")
    assert (case.score, case.comment, case.answer_version) == (2, "Kolejka i bałagan", 2)
    (change,) = case.answer_changes
    assert (change.from_score, change.to_score, change.previous_comment, change.version) == (5, 2, "Kolejka", 2)
    assert change.at == world.clock.now()


def test_a_changed_answer_to_a_promoter_still_updates_the_open_case(world):
    first = response_image("inv-1", score=3)
    world.service.handle(batch(stream_record(first)))

    changed = response_image("inv-1", score=9, comment="Jednak dobrze", version=2)
    world.service.handle(batch(stream_record(changed, old=first)))

    case = world.store.get("inv-1")
    assert (case.score, case.comment, case.status.value) == (9, "Jednak dobrze", "open")
    assert len(world.mailer.sent) == 1  # no alert for a promoter: only the first answer's email


PII_COMMENT = "Pani Kasia była niemiła, oddzwońcie 601 234 567, PESEL 44051401359, jan.kowalski@wp.pl"


def test_the_topic_gets_the_masked_comment_and_the_owners_email_the_words_as_written(world):
    world.service.handle(batch(stream_record(response_image("inv-1", score=2, comment=PII_COMMENT))))

    (message,) = world.topic.messages
    for value in ("Kasia", "601 234 567", "44051401359", "jan.kowalski@wp.pl"):
        assert value not in str(message.body)
    assert message.body["comment"].startswith("Pani [person_name] była niemiła")
    (mail,) = world.mailer.sent  # to the case owner only
    assert PII_COMMENT in email.message_from_bytes(mail.raw, policy=policy.default).get_body(("plain",)).get_content()


def analysed(image, themes=("staff",), sentiment="negative", model="m1"):
    from npsloop.domain.responses import text_hash

    masked = "Pani [person_name] była niemiła, oddzwońcie [phone], PESEL [pesel], [email]"
    return {
        **image,
        "analysis": {
            "sentiment": sentiment,
            "themes": list(themes),
            "masked": masked,
            "provider": "builtin",
            "model_version": model,
            "taxonomy_version": "t1",
            "analysed_text_hash": text_hash(image["comment"]),
        },
    }


def test_the_analysis_arriving_fires_the_theme_rule_once_and_repeats_no_other_alert(world):
    first = response_image("inv-1", score=2, comment=PII_COMMENT)
    world.service.handle(batch(stream_record(first)))
    with_analysis = analysed(first)

    world.service.handle(batch(stream_record(with_analysis, old=first)))
    world.service.handle(batch(stream_record(with_analysis, old=first)))  # redelivered
    world.service.handle(batch(stream_record(analysed(first, model="m2"), old=with_analysis)))  # a backfill

    assert world.alerts() == [("inv-1", "detractor"), ("inv-1", "negative-staff-comment")]
    theme_alert = next(m for m in world.topic.messages if m.attributes["rule"] == "negative-staff-comment")
    assert theme_alert.body["comment"] == with_analysis["analysis"]["masked"]
    assert len(world.mailer.sent) == 2  # the detractor's email, then one for the theme
    body = email.message_from_bytes(world.mailer.sent[1].raw, policy=policy.default).get_body(("plain",)).get_content()
    assert "Komentarz o: obsługa" in body or "Comment about staff" in body
    assert len(world.store.cases) == 1  # the detractor's case; the theme rule opens none


def test_an_analysis_no_theme_rule_watches_alerts_nothing(world):
    first = response_image("inv-1", score=9, comment="Dostawa szybka")
    world.service.handle(batch(stream_record(first)))
    world.service.handle(batch(stream_record(analysed(first, themes=("delivery",), sentiment="positive"), old=first)))
    world.service.handle(batch(stream_record(analysed(first, themes=("staff",), sentiment="positive"), old=first)))

    assert (world.topic.messages, world.mailer.sent) == ([], [])
