"""The planner queues one job per recipient of their own scope; the worker sends each exactly once."""

import email
from datetime import UTC, date, datetime, timedelta
from email import policy

import pytest

from npsloop.clock import ManualClock
from npsloop.domain.aggregates import AggregateKey, Delta
from npsloop.domain.alerts import load_routing
from npsloop.domain.brand import load_brand
from npsloop.domain.programs import load_programs
from npsloop.domain.reports import Recipient, load_reports, parse_reports, preference_id
from npsloop.domain.scope import load_roles
from npsloop.domain.surveys import SurveyType
from npsloop.services.reports import (
    InProcessChartCache,
    ReportDeferred,
    ReportPlanner,
    ReportSender,
    ReportWorker,
)
from npsloop.services.scores import ScoresService
from tests.fakes import RecordingMailer, StaticKeys
from tests.fakes_reports import InMemoryPreferences, InMemoryReportClaims, ListQueue, StaticDirectory
from tests.fakes_score import InMemoryAggregates

MONDAY = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 07:00 in Warsaw: the week of 23-29 November
PROGRAM = "post-purchase-nps"
PEOPLE = [
    Recipient("u-waw", "waw@example.com", "pl", "Europe/Warsaw", ("npsloop-store-WAW-01",)),
    Recipient("u-krk", "krk@example.com", "en", "Europe/Warsaw", ("npsloop-store-KRK-02",)),
    Recipient("u-maz", "maz@example.com", "pl", "Europe/Warsaw", ("npsloop-region-mazowieckie",)),
    Recipient("u-lead", "lead@example.com", "en", "Europe/Warsaw", ("npsloop-cx-lead",)),
    Recipient("u-analyst", "analyst@example.com", "en", "Europe/Warsaw", ("npsloop-analyst",)),
]


def _answers(aggregates, store, region, day, scores):
    counts = {}
    for s in scores:
        counts[s] = counts.get(s, 0) + 1
    delta = Delta(SurveyType.NPS, n=len(scores), counts=counts)
    for dimension, value in (("all", "all"), ("store", store), ("region", region)):
        key = AggregateKey(PROGRAM, dimension, value, day)
        aggregates.add("j", key, Delta(SurveyType.NPS, delta.n, dict(delta.counts)), MONDAY, MONDAY)
        aggregates.journal.pop("j", None)


@pytest.fixture
def world():
    aggregates = InMemoryAggregates()
    for week in range(12):
        day = date(2026, 11, 23) - timedelta(weeks=week)
        _answers(aggregates, "WAW-01", "mazowieckie", day, [10] * 30 + [9] * 10 + [3] * 7)
        _answers(aggregates, "KRK-02", "malopolskie", day, [10] * 5 + [2] * 25)
    clock = ManualClock(MONDAY)
    programs = load_programs()
    return {"aggregates": aggregates, "clock": clock, "programs": programs}


def _worker(world, reports=None, **changes):
    parts = {
        "reports": reports or load_reports(),
        "programs": world["programs"],
        "scores": ScoresService(programs=world["programs"], aggregates=world["aggregates"], clock=world["clock"]),
        "roles": load_roles(),
        "routing": load_routing(),
        "claims": InMemoryReportClaims(),
        "preferences": InMemoryPreferences(),
        "mailer": RecordingMailer(),
        "keys": StaticKeys(),
        "charts": InProcessChartCache(),
        "sender": ReportSender("reports@example.com", "https://feedback.example.com"),
        "brand": load_brand(),
        "clock": world["clock"],
    } | changes
    return ReportWorker(**parts), parts


def _plan(world, report_id, people=PEOPLE):
    queue = ListQueue()
    planner = ReportPlanner(
        reports=load_reports(), roles=load_roles(), routing=load_routing(),
        directory=StaticDirectory(people), queue=queue, clock=world["clock"],
    )  # fmt: skip
    planner.plan(report_id)
    return queue.jobs


def _html(sent):
    message = email.message_from_bytes(sent.raw, policy=policy.default)
    return message, message.get_body(("html",)).get_content()


def test_the_weekly_store_report_goes_to_each_store_manager_only_with_their_own_store(world):
    jobs = _plan(world, "store-weekly")
    assert sorted(j.subject for j in jobs) == ["u-krk", "u-waw"]
    assert {j.period for j in jobs} == {"2026-W48"}
    worker, parts = _worker(world)
    for job in jobs:
        assert worker.handle(job) == "sent"
    by_address = {m.recipient: _html(m)[1] for m in parts["mailer"].sent}
    assert "Sklep WAW-01" in by_address["waw@example.com"] and "KRK-02" not in by_address["waw@example.com"]
    assert "Store KRK-02" in by_address["krk@example.com"] and "WAW-01" not in by_address["krk@example.com"]
    # The store is compared with its own region, whose number it may see; no other store's.
    assert "Region mazowieckie" in by_address["waw@example.com"]


def test_the_email_carries_its_charts_inline_by_content_id_with_tables_beside_them(world):
    (job,) = [j for j in _plan(world, "region-monthly") if j.subject == "u-maz"]
    worker, parts = _worker(world)
    worker.handle(job)
    message, html = _html(parts["mailer"].sent[0])
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "multipart/related"]
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    cids = [p["Content-ID"].strip("<>") for p in images]
    assert images and all(f"cid:{cid}" in html for cid in cids)
    assert all(p.get_content().startswith(b"\x89PNG") for p in images)
    assert "WAW-01" in html and "online-pl" in html and "KRK-02" not in html  # the region's stores only
    assert "https://feedback.example.com/dashboard?program=post-purchase-nps&amp;period=month" in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_replayed_job_sends_nothing_more(world):
    jobs = _plan(world, "store-weekly")
    worker, parts = _worker(world)
    outcomes = [worker.handle(job) for job in jobs + jobs + list(reversed(jobs))]
    assert outcomes.count("sent") == 2 and outcomes.count("duplicate") == 4
    assert len(parts["mailer"].sent) == 2


def test_a_throttled_send_releases_the_claim_and_the_redelivery_sends_it(world):
    (job, *_) = _plan(world, "store-weekly")
    mailer = RecordingMailer()
    worker, _ = _worker(world, mailer=mailer)
    mailer.unavailable_with = "TooManyRequestsException"
    with pytest.raises(ReportDeferred):
        worker.handle(job)
    mailer.unavailable_with = None
    assert worker.handle(job) == "sent" and len(mailer.sent) == 1


def test_a_send_that_may_have_happened_is_never_repeated(world):
    (job, *_) = _plan(world, "store-weekly")

    class LostReply(RecordingMailer):
        def send(self, email):
            super().send(email)
            raise TimeoutError("the answer never came")

    mailer = LostReply()
    worker, _ = _worker(world, mailer=mailer)
    with pytest.raises(TimeoutError):
        worker.handle(job)
    world["clock"].advance(timedelta(hours=2))  # even after the lease: unconfirmed, not resent
    assert worker.handle(job) == "unconfirmed" and len(mailer.sent) == 1


def test_a_person_who_stopped_the_report_gets_nothing_from_the_next_run(world):
    (job, *_) = _plan(world, "store-weekly")
    worker, parts = _worker(world)
    parts["preferences"].opt_out(preference_id("store-weekly", job.subject), MONDAY)
    assert worker.handle(job) == "opted_out" and parts["mailer"].sent == []


def test_a_scope_without_answers_gets_a_short_note_or_nothing_as_configured(world):
    lonely = [Recipient("u-gda", "gda@example.com", "pl", "Europe/Warsaw", ("npsloop-region-pomorskie",))]
    (job,) = _plan(world, "region-monthly", lonely)
    worker, parts = _worker(world)
    assert worker.handle(job) == "sent"
    message, html = _html(parts["mailer"].sent[0])
    assert "W tym okresie nie było odpowiedzi." in html
    assert not [p for p in message.walk() if p.get_content_type() == "image/png"]  # no chart, never a broken one
    skipping = load_reports().model_dump()
    skipping["report"][1]["no_answers"] = "skip"
    worker, parts = _worker(world, reports=parse_reports(skipping))
    assert worker.handle(job) == "skipped" and parts["mailer"].sent == []


def test_a_scopes_charts_are_drawn_once_for_all_its_recipients(world):
    people = [
        Recipient(f"u-{i}", f"m{i}@example.com", "pl", "Europe/Warsaw", ("npsloop-store-WAW-01",)) for i in range(5)
    ]
    jobs = _plan(world, "store-weekly", people)
    charts = InProcessChartCache()
    worker, parts = _worker(world, charts=charts)
    for job in jobs:
        worker.handle(job)
    assert len(parts["mailer"].sent) == 5 and charts.drawn == 1  # the store's trend, once


def test_a_scopes_numbers_are_read_once_per_run_for_all_its_recipients(world):
    people = [
        Recipient(f"u-{i}", f"m{i}@example.com", "pl", "Europe/Warsaw", ("npsloop-store-WAW-01",)) for i in range(5)
    ]
    aggregates = world["aggregates"]
    worker, parts = _worker(world)
    (first, *others) = _plan(world, "store-weekly", people)
    worker.handle(first)
    one = aggregates.queries
    for job in others:
        worker.handle(job)
    assert len(parts["mailer"].sent) == 5 and aggregates.queries == one  # the others read nothing more
    # A later run (the next week's schedule, or a replayed one) reads afresh.
    world["clock"].advance(timedelta(weeks=1))
    worker.handle(_plan(world, "store-weekly", people)[0])
    assert aggregates.queries == 2 * one


def test_a_person_without_their_own_language_or_time_zone_takes_their_regions(world):
    # GIVEN a London regional manager whose user has no locale or zoneinfo attribute
    people = [Recipient("u-lon", "lon@example.com", "", "", ("npsloop-region-london",))]
    # WHEN the monthly regional report is planned (07:00 Warsaw on 1 December)
    world["clock"].advance(timedelta(days=1))
    (job,) = _plan(world, "region-monthly", people)
    # THEN the job is in routing.toml's language and time zone for London, and so is its period
    assert (job.language, job.time_zone, job.period) == ("en", "Europe/London", "2026-11")


def test_a_job_that_can_never_be_sent_is_parked_with_the_reason_and_nothing_is_claimed(world):
    from tests.fakes import ListParking

    parking = ListParking()
    worker, parts = _worker(world, parking=parking)
    (job, *_) = _plan(world, "store-weekly")
    broken = job.model_dump(mode="json") | {"email": "not an address", "report_id": "store-weekly"}
    unknown = job.model_dump(mode="json") | {"report_id": "gone-weekly"}
    import json

    assert worker.handle_message(json.dumps(broken)) == "parked"
    assert worker.handle_message(json.dumps(unknown)) == "parked"
    reasons = [reason for _, reason in parking.parked]
    assert reasons[0].startswith("invalid report job: email:") and "not an address" not in reasons[0]
    assert reasons[1] == "unknown report 'gone-weekly' (not in reports.toml)"
    assert parts["claims"].items == {} and parts["mailer"].sent == []


def test_a_batch_reports_only_the_jobs_that_failed_for_sqs_to_retry(world):
    jobs = _plan(world, "store-weekly")
    mailer = RecordingMailer()
    worker, _ = _worker(world, mailer=mailer)
    mailer.unavailable_with = "TooManyRequestsException"  # SES throttles the whole batch
    event = {"Records": [{"messageId": f"m{i}", "body": j.model_dump_json()} for i, j in enumerate(jobs)]}
    assert worker.handle_batch(event) == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
    mailer.unavailable_with = None
    assert worker.handle_batch(event) == {"batchItemFailures": []}
    assert len(mailer.sent) == 2


def _batch(jobs):
    return {"Records": [{"messageId": f"m{i}", "body": j.model_dump_json()} for i, j in enumerate(jobs)]}


def _plain(sent):
    return email.message_from_bytes(sent.raw, policy=policy.default).get_body(("plain",)).get_content()


def test_a_batch_reads_each_range_of_a_partition_once_for_all_its_blocks(world):
    # GIVEN one batch: a manager of two regions (two blocks per program) and one of the first region
    two = ("npsloop-region-mazowieckie", "npsloop-region-malopolskie")
    people = [
        Recipient("u-two", "two@example.com", "en", "Europe/Warsaw", two),
        Recipient("u-maz", "maz@example.com", "en", "Europe/Warsaw", ("npsloop-region-mazowieckie",)),
    ]
    jobs = _plan(world, "region-monthly", people)
    worker, parts = _worker(world)
    aggregates = world["aggregates"]
    # WHEN the worker handles the batch
    assert worker.handle_batch(_batch(jobs)) == {"batchItemFailures": []}
    # THEN each program's 13 months of the region partition were read once, not once per region, and no
    # range of any partition twice (a region's own trend and the comparisons are sliced from them)
    assert len(parts["mailer"].sent) == 2
    assert aggregates.ranges, "the report read nothing"
    assert {r: n for r, n in aggregates.ranges.items() if n > 1} == {}
    region = [r for r in aggregates.ranges if r[:2] == (PROGRAM, "region")]
    assert region == [(PROGRAM, "region", date(2025, 10, 1), date(2026, 10, 31))]
    # and each region's numbers are its own, as a report of that region alone shows them
    text = _plain(next(m for m in parts["mailer"].sent if m.recipient == "two@example.com"))
    assert "Region malopolskie · NPS: -67 (95% range -78 to -52), 120 answers" in text
    assert "Region mazowieckie · NPS: 70 (95% range 59 to 79), 188 answers" in text
    alone = _plain(next(m for m in parts["mailer"].sent if m.recipient == "maz@example.com"))
    assert "Region mazowieckie · NPS: 70 (95% range 59 to 79), 188 answers" in alone


def test_an_invocation_never_answers_from_an_earlier_invocations_reads(world):
    # GIVEN the Mazovian manager's report sent by one invocation (its read held every region's days)
    maz = [Recipient("u-maz", "maz@example.com", "en", "Europe/Warsaw", ("npsloop-region-mazowieckie",))]
    krk = [Recipient("u-krk-r", "krkr@example.com", "en", "Europe/Warsaw", ("npsloop-region-malopolskie",))]
    worker, parts = _worker(world)
    worker.handle_batch(_batch(_plan(world, "region-monthly", maz)))
    # WHEN 30 more answers of Malopolska reach the aggregates before the next invocation of the same run
    key = AggregateKey(PROGRAM, "region", "malopolskie", date(2026, 10, 15))
    world["aggregates"].add("late", key, Delta(SurveyType.NPS, n=30, counts={10: 30}), MONDAY, MONDAY)
    worker.handle_batch(_batch(_plan(world, "region-monthly", krk)))
    # THEN the next invocation reads them: -67 of 120 answers before, -33 of 150 now
    (_, sent) = parts["mailer"].sent
    assert "Region malopolskie · NPS: -33 (95% range" in _plain(sent) and "150 answers" in _plain(sent)
