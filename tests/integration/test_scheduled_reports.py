"""Scheduled reports through the local stack: EventBridge Scheduler schedules (in Europe/Warsaw) fire the
planner, which reads the user pool's directory and queues one SQS job per recipient; the worker, an SQS
event source with partial batch failures, renders and sends each report once (issue 11)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

import npsloop.domain.alerts as alerts
from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
from npsloop.adapters.dynamodb_import import DynamoImportWriter
from npsloop.domain.aggregates import AggregateKey, Delta
from npsloop.domain.alerts import Person, StoreRoute
from npsloop.domain.surveys import SurveyType
from npsloop.importing.records import ImportedResponse
from npsloop_local.stack import LocalStack
from tests.conftest import ROOT
from tests.fakes_answers import answer

PROGRAM = "post-purchase-nps"
REGIONS = ("mazowieckie", "malopolskie", "slaskie", "pomorskie")
NEW_STORES = {  # with routing.toml's WAW-01, KRK-02 (and online-pl): 20 stores, 5 in each of 4 regions
    "mazowieckie": ["RAD-11", "PLO-12", "SIE-13"],
    "malopolskie": ["TAR-21", "NSA-22", "OSW-23", "ZAK-24"],
    "slaskie": ["KAT-31", "GLI-32", "BYT-33", "ZAB-34", "RYB-35"],
    "pomorskie": ["GDA-41", "GDY-42", "SOP-43", "SLU-44", "TCZ-45"],
}
SUNDAY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
AFTER_RUNS = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)  # Tuesday 09:30 in Warsaw: all three schedules fired
ANSWERS = re.compile(r"(?:odpowiedzi: (\d+)|(\d+) answers)")
COMMENT = re.compile(r"uwaga-([\w-]+):")


@pytest.fixture
def routing(monkeypatch):
    """routing.toml with the chain's other stores (each with its own owner), for every function."""
    base = alerts.load_routing()
    extra = tuple(
        StoreRoute(id=store, region=region, owner=Person(id=f"u-owner-{store}", email=f"owner-{store}@example.com"))
        for region, stores in NEW_STORES.items()
        for store in stores
    )
    table = base.model_copy(update={"store": base.store + extra})
    monkeypatch.setattr(alerts, "load_routing", lambda *args, **kwargs: table)
    return table


@pytest.fixture
def report_stack(routing, tmp_path):
    clock_ = _Clock(SUNDAY)
    with LocalStack(
        template_path=ROOT / "template.yaml",
        clock=clock_,
        outbox_dir=tmp_path / "outbox",
        parameters={"ReportSendRate": "100"},
    ) as running:
        running.test_clock = clock_
        yield running
        assert not running.authorizer.denied, "IAM denied calls: " + "; ".join(map(str, running.authorizer.denied))


class _Clock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def _stores(routing) -> dict[str, str]:
    return {s.id: s.region for s in routing.store if s.region in REGIONS}


def _seed(stack, routing) -> dict[str, int]:
    """NPS answers per store on one day of each of the 12 weeks and 12 months before the runs; a store's
    count in the week of 23-29 November is its own (40 + its place), so every email's count is telling."""
    aggregates = DynamoAggregates(stack.outputs["TableName"], client=stack.client("dynamodb"))
    stores = _stores(routing)
    week_n = {store: 40 + i for i, store in enumerate(sorted(stores))}
    days = [date(2026, 11, 25) - timedelta(weeks=w) for w in range(12)]
    days += [date(2026, 11 - m, 10) for m in range(1, 11)] + [date(2025, 12, 10)]
    for day in days:
        totals: dict[tuple[str, str], Delta] = {}
        for store, region in stores.items():
            n = week_n[store] if day == days[0] else 30 + len(store)
            promoters, detractors = n // 2, n // 5
            delta = {10: promoters, 3: detractors, 8: n - promoters - detractors}
            for dimension, value in (("store", store), ("region", region), ("all", "all")):
                total = totals.setdefault((dimension, value), Delta(SurveyType.NPS))
                total.add(Delta(SurveyType.NPS, n=n, counts=dict(delta)))
        for (dimension, value), delta in totals.items():
            key = AggregateKey(PROGRAM, dimension, value, day)
            aggregates.add(f"seed-{dimension}-{value}-{day}", key, delta, AFTER_RUNS, AFTER_RUNS)
    return week_n


def _seed_comments(stack, routing) -> None:
    """One answer with a comment per store in the reported week, in the answer index as the importer
    writes it; the table's stream then counts them into the aggregates: one answer more in each store's week."""
    writer = DynamoImportWriter(stack.outputs["TableName"], client=stack.client("dynamodb"), sleep=lambda _: None)
    at = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    records = [
        ImportedResponse(
            answer(i, at + timedelta(minutes=i), store=store, region=region, score=3,
                   comment=f"uwaga-{store}: Anna Nowak prosi o telefon 601 234 5{i:02d}"),
            source="test", source_id=str(i),
        )
        for i, (store, region) in enumerate(sorted(_stores(routing).items()))
    ]  # fmt: skip
    writer.put(records)
    stack.drain()  # the score function takes the stream's records before any schedule is due


def _directory(stack, routing) -> dict[str, tuple[str, str, str]]:
    """300 people: 14 managers for each of the 20 stores, 4 for each of the 4 regions, 4 CX leads;
    address -> (scope kind, its id, subject)."""
    people: dict[str, tuple[str, str]] = {}
    for store, _region in sorted(_stores(routing).items()):
        for i in range(14):
            people[f"m{i}.{store.lower()}@people.example.com"] = ("store", store)
    for region in REGIONS:
        for i in range(4):
            people[f"r{i}.{region}@people.example.com"] = ("region", region)
    for i in range(4):
        people[f"lead{i}@people.example.com"] = ("network", "all")
    group = {"store": "npsloop-store-{}", "region": "npsloop-region-{}", "network": "npsloop-cx-lead"}
    directory = {}
    for n, (address, (kind, value)) in enumerate(sorted(people.items())):
        stack.add_person(f"p-{n:03d}", address, [group[kind].format(value)], locale="pl" if n % 2 else "en")
        directory[address] = (kind, value, f"p-{n:03d}")
    return directory


def _html(message) -> str:
    return message.get_body(("html",)).get_content()


def test_three_hundred_recipients_get_exactly_one_report_each_with_only_their_own_scope(report_stack, routing):
    # GIVEN 20 stores in 4 regions with answers, and 300 people of the user pool in their groups
    week_n = _seed(report_stack, routing)
    _seed_comments(report_stack, routing)
    people = _directory(report_stack, routing)
    stores = _stores(routing)
    assert len(people) == 300 and len(stores) == 20 and set(stores.values()) == set(REGIONS)

    # WHEN the weekly and both monthly schedules fire by the clock (Monday and the 1st, in Warsaw)
    report_stack.test_clock.advance(AFTER_RUNS - SUNDAY)
    report_stack.drain()

    # THEN every one of the 300 got exactly one email, and nobody got two
    messages = report_stack.outbox_messages()
    received = Counter(str(m["To"]) for m in messages)
    assert {address: received[address] for address in people} == dict.fromkeys(people, 1)
    assert max(received.values()) == 1

    # AND each holds only its own scope's numbers
    for message in messages:
        address = str(message["To"])
        if address not in people:
            continue  # the personas of routing.toml get theirs too
        kind, value, _subject = people[address]
        html = _html(message)
        counts = {int(a or b) for a, b in ANSWERS.findall(html)}
        named = {store for store in stores if store in html}
        commented = set(COMMENT.findall(html))
        assert "601 234" not in html and "Nowak" not in html, address  # comments are masked for everyone
        if kind == "store":
            assert named == {value}, address
            assert counts == {week_n[value] + 1}, address  # the store's own week, nothing else
            assert commented == {value}, address  # its own comment only
        elif kind == "region":
            assert named == {s for s, r in stores.items() if r == value}, address  # the region's stores only
            assert not {r for r in REGIONS if r != value and f"Region {r}" in html}, address
            assert commented and {stores[s] for s in commented} == {value}, address
        else:
            assert all(f"Region {r}" in html or r in html for r in REGIONS), address  # the network by region
            assert commented, address  # the network's month of comments (the month partitions, GSI1)

    # AND a replayed job sends nothing more: a schedule's retry queues every job again, and one job's
    # message delivered twice more
    sqs = report_stack.client("sqs")
    queue = report_stack.physical_id("ReportJobsQueue")
    for report in ("store-weekly", "region-monthly", "management-monthly"):
        report_stack.dispatcher.invoker.submit(
            report_stack.dispatcher.function("ReportPlannerFunction"), {"report": report}
        )
    report_stack.drain()
    before = len(report_stack.outbox)
    assert before == len(messages)
    claims = [i for i in _scan(report_stack) if i["pk"]["S"].startswith("REPORT#")]
    assert len(claims) == len(messages) and {c["status"]["S"] for c in claims} == {"sent"}
    job = _job_body(people, "m3.byt-33@people.example.com")
    for _ in range(2):
        sqs.send_message(QueueUrl=queue, MessageBody=job)
    report_stack.drain()
    assert len(report_stack.outbox) == before


def _scan(stack) -> list[dict]:
    client = stack.client("dynamodb")
    items, request = [], {"TableName": stack.outputs["TableName"]}
    while True:
        page = client.scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _job_body(people, address: str) -> str:
    """A store manager's job as the planner queued it (the queue is empty by now): the same report, period
    and person, so the same claim."""
    from npsloop.domain.reports import ReportJob, ReportUnit, UnitKind

    kind, store, subject = people[address]
    assert kind == "store"
    return ReportJob(
        report_id="store-weekly", period="2026-W48", start=date(2026, 11, 23), end=date(2026, 11, 29),
        subject=subject, email=address, language="en", time_zone="Europe/Warsaw",
        units=(ReportUnit(kind=UnitKind.STORE, id=store),), run=AFTER_RUNS.isoformat(),
    ).model_dump_json()  # fmt: skip


# -- the stop link and the job queue's failures, with routing.toml's own personas ---------------------

MONDAY_AFTER = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # 08:00 in Warsaw: the weekly run fired at 07:00


@pytest.fixture
def personas_stack(tmp_path):
    clock_ = _Clock(SUNDAY)
    with LocalStack(
        template_path=ROOT / "template.yaml", clock=clock_, outbox_dir=tmp_path / "outbox",
        parameters={"ReportSendRate": "100"},
    ) as running:  # fmt: skip
        running.test_clock = clock_
        yield running
        assert not running.authorizer.denied, "IAM denied calls: " + "; ".join(map(str, running.authorizer.denied))


def test_the_stop_link_shows_a_page_then_stops_the_report_from_the_next_run(personas_stack):
    from tests.web_client import WebClient

    stack = personas_stack
    due = {s.name.rsplit("-report-", 1)[-1]: s.next_due for s in stack.dispatcher.schedules if "-report-" in s.name}
    assert due == {  # EventBridge Scheduler's cron read in Europe/Warsaw (UTC+1 in winter)
        "store-weekly": datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
        "region-monthly": datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
        "management-monthly": datetime(2026, 12, 1, 7, 0, tzinfo=UTC),
    }
    stack.test_clock.advance(MONDAY_AFTER - SUNDAY)
    stack.drain()
    first = {str(m["To"]): m for m in stack.outbox_messages()}
    assert "marek.kowalski@example.com" in first and len(first) >= 2  # routing.toml's store managers
    stop_url = str(first["marek.kowalski@example.com"]["List-Unsubscribe"]).strip("<>")
    assert re.fullmatch(r"https?://[^/]+/reports/stop/[a-z2-7]+\.[0-9a-z]+\.[A-Za-z0-9_-]{22}\?lang=(pl|en)", stop_url)
    path = stop_url.split("/", 3)[3]
    client = WebClient(stack.base_url)

    # GIVEN the link opened (as a mail scanner or the person would): a page with one button, nothing stored
    page = client.go("/" + path)
    assert page.status == 200 and '<form method="post"' in page.body and "Nie chcę już dostawać" in page.body
    assert not [i for i in _scan(stack) if i["pk"]["S"].startswith("REPORTPREF#")]
    # WHEN the button is pressed (or the mail client's one-click POST arrives)
    done = client.go("/" + path, form={"List-Unsubscribe": "One-Click"})
    assert done.status == 200 and "Raport nie będzie już wysyłany" in done.body
    # THEN next week's run sends to everyone else, not to them
    stack.test_clock.advance(timedelta(weeks=1))
    stack.drain()
    weekly = ("Tydzień w Twoim sklepie", "Your store's week")
    later = stack.outbox_messages()[len(first) :]
    second = Counter(str(m["To"]) for m in later if str(m["Subject"]).startswith(weekly))
    assert "marek.kowalski@example.com" not in second
    assert set(second) == set(first) - {"marek.kowalski@example.com"}
    # AND a forged or altered link is refused with a friendly page
    token = path.split("/")[-1].split("?")[0]
    assert client.go(f"/reports/stop/{token[:-3]}AAA?lang=en").status == 400


def test_a_job_held_by_another_delivery_is_retried_by_sqs_then_dead_lettered_never_sent_twice(personas_stack):
    from npsloop.adapters.dynamodb_reports import DynamoReportClaims
    from npsloop.domain.reports import ReportJob, ReportUnit, UnitKind, claim_id

    stack = personas_stack
    job = ReportJob(
        report_id="store-weekly", period="2026-W48", start=date(2026, 11, 23), end=date(2026, 11, 29),
        subject="u-someone", email="someone@example.com", language="en", time_zone="Europe/Warsaw",
        units=(ReportUnit(kind=UnitKind.STORE, id="WAW-01"),), run=SUNDAY.isoformat(),
    )  # fmt: skip
    # GIVEN another delivery claimed this job a moment ago, and its send is unknown (it crashed)
    DynamoReportClaims(stack.outputs["TableName"], client=stack.client("dynamodb")).claim(
        claim_id(job.report_id, job.period, job.subject), "other", SUNDAY, SUNDAY + timedelta(hours=2)
    )
    sqs = stack.client("sqs")
    sqs.send_message(QueueUrl=stack.physical_id("ReportJobsQueue"), MessageBody=job.model_dump_json())
    # AND an unreadable job
    sqs.send_message(QueueUrl=stack.physical_id("ReportJobsQueue"), MessageBody='{"report_id": "store-weekly"}')
    # WHEN the worker takes them, and SQS redelivers the failed one after each visibility timeout
    stack.drain()
    # THEN the held job was received 5 times and is in the dead-letter queue, unsent; the unreadable one is
    # parked there at once with the reason
    dlq = stack.physical_id("ReportJobsDeadLetterQueue")
    parked = []
    while page := sqs.receive_message(
        QueueUrl=dlq, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
    ).get("Messages"):
        parked += page
    by_reason = {m.get("MessageAttributes", {}).get("reason", {}).get("StringValue"): m for m in parked}
    assert len(parked) == 2
    held = by_reason.pop(None)
    assert ReportJob.model_validate_json(held["Body"]) == job and held["Attributes"]["ApproximateReceiveCount"] >= "5"
    (reason,) = by_reason
    assert reason.startswith("invalid report job: ") and "period: Field required" in reason
    assert [m for m in stack.outbox_messages() if str(m["To"]) == "someone@example.com"] == []
    assert stack.test_clock.now() - SUNDAY >= timedelta(seconds=360 * 4)  # redelivered by the clock


def test_the_demo_can_run_the_reports_of_its_simulated_weeks(personas_stack):
    from npsloop_local.scheduled_reports import run_scheduled_reports

    stack = personas_stack
    store_managers = {"marek.kowalski@example.com", "ewa.mazur@example.com", "online-pl@example.com"}
    # WHEN three simulated weeks pass at once (Sunday 29 November to Sunday 20 December)
    sent = run_scheduled_reports(stack, datetime(2026, 12, 20, 12, 0, tzinfo=UTC))
    # THEN each Monday's weekly run and the 1 December monthly runs went out, one by one
    titles = ("Tydzień w Twoim sklepie", "Your store's week")
    weekly = [m for m in stack.outbox_messages() if str(m["Subject"]).startswith(titles)]
    assert sent["store-weekly"] == 3 * len(store_managers) == len(weekly)
    assert Counter(str(m["To"]) for m in weekly) == dict.fromkeys(store_managers, 3)
    assert len({str(m["Subject"]) for m in weekly}) == 3  # three different weeks
    assert sent["region-monthly"] >= 1  # "no answers this period", as reports.toml says for it
    assert sent["management-monthly"] == 0  # no answers at all: that report is configured to skip
    assert sum(sent.values()) == len(stack.outbox)
