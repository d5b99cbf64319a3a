"""The report's funnel and comments sections: each unit's own funnel of the period, and a few notable
comments of its answers, masked for everyone and absent for a role without personal data."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime, timedelta
from email import policy

import pytest

from npsloop.domain.aggregates import AggregateKey, FunnelDelta
from npsloop.domain.alerts import load_routing
from npsloop.domain.reports import Recipient, ReportUnit, UnitKind, load_reports, parse_reports
from npsloop.domain.scope import load_roles, scope_of
from npsloop.reports import sections
from npsloop.services.answers import AnswerService, AnswersRefused
from npsloop.services.funnel import FunnelService
from npsloop.services.reports import AnswerCommentSource, InProcessChartCache, ServiceFunnelSource
from tests.fakes_answers import InMemoryAnswers, answer
from tests.unit.test_report_service import MONDAY, PEOPLE, _html, _plan, _worker, world  # noqa: F401

PROGRAM = "post-purchase-nps"
WEEK = [date(2026, 11, 23) + timedelta(days=d) for d in range(7)]  # the week the Monday run reports


def _funnel_day(aggregates, store, region, day, **counts):
    for dimension, value in (("all", "all"), ("store", store), ("region", region)):
        key = AggregateKey(PROGRAM, dimension, value, day)
        aggregates.add(f"f-{store}-{day}-{dimension}", key, FunnelDelta(dict(counts)), MONDAY, MONDAY)


@pytest.fixture
def funnels(world):  # noqa: F811
    aggregates = world["aggregates"]
    # WAW-01: 40 sent in the week, 38 delivered, 12 answered, 2 bounced, 1 complaint
    _funnel_day(aggregates, "WAW-01", "mazowieckie", WEEK[0], invited=25, delivered=24, answered=8, bounced=1)
    _funnel_day(aggregates, "WAW-01", "mazowieckie", WEEK[6], invited=15, delivered=14, answered=4, bounced=1,
                complained=1)  # fmt: skip
    # the day before the week and another store: never in WAW-01's report
    _funnel_day(aggregates, "WAW-01", "mazowieckie", WEEK[0] - timedelta(days=1), invited=999, delivered=999)
    _funnel_day(aggregates, "KRK-02", "malopolskie", WEEK[2], invited=77, delivered=70, answered=33)
    return ServiceFunnelSource(FunnelService(reader=aggregates))


def _text(sent) -> str:
    return email.message_from_bytes(sent.raw, policy=policy.default).get_body(("plain",)).get_content()


def test_the_funnel_source_reads_the_units_own_segment(funnels):
    def sent(kind, unit_id="all"):
        return funnels.funnel(PROGRAM, ReportUnit(kind=kind, id=unit_id), WEEK[0], WEEK[-1]).invited

    assert sent(UnitKind.STORE, "WAW-01") == 40
    assert sent(UnitKind.REGION, "malopolskie") == 77
    assert sent(UnitKind.NETWORK) == 117


def test_a_store_managers_report_shows_the_stores_funnel_of_the_week_as_a_chart_and_a_table(world, funnels):  # noqa: F811
    (job,) = [j for j in _plan(world, "store-weekly") if j.subject == "u-waw"]
    worker, parts = _worker(world, funnel=funnels)
    assert worker.handle(job) == "sent"
    message, html = _html(parts["mailer"].sent[0])
    assert "Lejek ankiety" in html and "Wysłane zaproszenia" in html
    assert ">40<" in html and "38 (95% wysłanych)" in html  # delivered of sent
    assert "Odsetek odpowiedzi (z wysłanych)" in html and ">30%<" in html  # 12 of 40
    assert "2 (5% wysłanych)" in html and "Oznaczone jako spam" in html  # bounces, and the one complaint
    assert "999" not in html and "77" not in html  # not the day before, not another store
    funnel_cid = [p["Content-ID"].strip("<>") for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(funnel_cid) == 2 and all(f"cid:{cid}" in html for cid in funnel_cid)  # the trend and the funnel
    assert 'alt="Lejek ankiety: Wysłane zaproszenia 40, Doręczone 38, Z odpowiedzią 12"' in html
    assert "Wysłane zaproszenia 40, Doręczone 38, Z odpowiedzią 12" in _text(parts["mailer"].sent[0])


def test_a_period_without_invitations_says_so_without_a_funnel_chart(world):  # noqa: F811
    (job,) = [j for j in _plan(world, "store-weekly") if j.subject == "u-krk"]
    worker, parts = _worker(world, funnel=ServiceFunnelSource(FunnelService(reader=world["aggregates"])))
    worker.handle(job)
    message, html = _html(parts["mailer"].sent[0])
    assert "No survey invitations were sent in this period." in html
    assert len([p for p in message.walk() if p.get_content_type() == "image/png"]) == 1  # the trend only


def test_without_a_funnel_source_the_section_is_absent_not_empty(world):  # noqa: F811
    (job,) = [j for j in _plan(world, "store-weekly") if j.subject == "u-waw"]
    worker, parts = _worker(world)
    worker.handle(job)
    assert "Lejek ankiety" not in _html(parts["mailer"].sent[0])[1]


# -- comments ----------------------------------------------------------------------------------------

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def index():
    return InMemoryAnswers(
        [
            answer(1, AT, "KRK-02", score=2, comment="Pan Jan Kowalski nie oddzwonił, mój numer 601 234 567."),
            answer(2, AT + timedelta(hours=1), "KRK-02", score=0, comment="Kolejka do kasy na pół godziny."),
            answer(3, AT + timedelta(hours=2), "KRK-02", score=10, comment="Świetna obsługa, dziękuję!"),
            answer(4, AT + timedelta(hours=3), "KRK-02", score=1),  # no comment: never picked
            answer(5, AT + timedelta(hours=4), "KRK-02", score=9, comment="Dobrze"),
            answer(6, AT, "WAW-01", score=0, comment="Mokotów: kolejka", region="mazowieckie"),  # another store
            answer(7, AT - timedelta(days=7), "KRK-02", score=0, comment="Tydzień wcześniej"),  # the week before
        ]
    )


def _comments(index) -> AnswerCommentSource:
    return AnswerCommentSource(AnswerService(index, _programs(), load_routing()))


def _programs():
    from npsloop.domain.programs import load_programs

    return load_programs()


def test_a_store_managers_report_shows_the_lowest_and_highest_comments_of_the_week_masked(world, index):  # noqa: F811
    (job,) = [j for j in _plan(world, "store-weekly") if j.subject == "u-krk"]
    worker, parts = _worker(world, comments=_comments(index))
    assert worker.handle(job) == "sent"
    html = _html(parts["mailer"].sent[0])[1]
    assert "Comments" in html
    assert "The lowest scores with a comment, and the highest" in html
    shown = [html.index(text) for text in ("0/10", "Kolejka do kasy na pół godziny.", "2/10", "[phone]", "10/10",
                                           "Świetna obsługa, dziękuję!")]  # fmt: skip
    assert shown == sorted(shown)  # lowest first
    assert "601 234 567" not in html and "Kowalski" not in html and "Pan [person_name] nie oddzwonił" in html
    assert "Dobrze" not in html  # neither among the two lowest nor the highest
    assert "Mokotów" not in html and "Tydzień wcześniej" not in html  # another store, another week
    assert "are replaced by a label in square brackets" in html
    assert "Kolejka do kasy" in _text(parts["mailer"].sent[0])


def test_a_role_without_personal_data_gets_no_comments_section_and_nothing_is_read(world, index):  # noqa: F811
    raw = load_reports().model_dump()
    raw["report"][2]["audience"] = {"roles": ["analyst"]}  # the management summary, to the analysts
    reports = parse_reports(raw)
    from npsloop.services.reports import ReportPlanner
    from tests.fakes_reports import ListQueue, StaticDirectory

    queue = ListQueue()
    world["clock"].advance(timedelta(days=1))  # 1 December: the monthly run
    ReportPlanner(
        reports=reports, roles=load_roles(), routing=load_routing(), directory=StaticDirectory(PEOPLE),
        queue=queue, clock=world["clock"],
    ).plan("management-monthly")  # fmt: skip
    (job,) = queue.jobs
    assert job.subject == "u-analyst" and "npsloop-analyst" in job.groups
    index.answers.append(answer(8, datetime(2026, 11, 10, tzinfo=UTC), "KRK-02", score=0, comment="Listopad"))
    worker, parts = _worker(world, reports=reports, comments=_comments(index))
    assert worker.handle(job) == "sent"
    html = _html(parts["mailer"].sent[0])[1]
    assert "Comments" not in html and "Listopad" not in html
    assert index.reads == []


def test_a_cx_leads_network_report_reads_the_network_month_and_names_each_comments_store(world, index):  # noqa: F811
    world["clock"].advance(timedelta(days=1))
    (job,) = [j for j in _plan(world, "management-monthly") if j.subject == "u-lead"]
    worker, parts = _worker(world, comments=_comments(index))
    assert worker.handle(job) == "sent"
    html = _html(parts["mailer"].sent[0])[1]
    # the two newest zeros of the month, from two stores, each named
    assert "Kolejka do kasy" in html and "Mokotów: kolejka" in html and "Tydzień wcześniej" not in html
    assert "· KRK-02 ·" in html and "· WAW-01 ·" in html
    assert {source.month for source, _ in index.reads} == {"2026-11"} and not any(s.store for s, _ in index.reads)


def test_a_scopes_comments_are_read_once_for_all_its_recipients(world, index):  # noqa: F811
    people = [
        Recipient(f"u-{i}", f"m{i}@example.com", "en", "Europe/Warsaw", ("npsloop-store-KRK-02",)) for i in range(5)
    ]
    source = _comments(index)
    worker, parts = _worker(world, comments=source, charts=InProcessChartCache())
    for job in _plan(world, "store-weekly", people):
        worker.handle(job)
    assert len(parts["mailer"].sent) == 5 and source.reads == 1
    assert all("Kolejka do kasy" in _html(m)[1] for m in parts["mailer"].sent)


def test_a_unit_outside_the_recipients_scope_is_refused_even_if_a_job_names_it(index):
    krk = scope_of("u-krk", ["npsloop-store-KRK-02"], load_roles(), load_routing())
    with pytest.raises(AnswersRefused):
        _comments(index).notable(
            PROGRAM, ReportUnit(kind=UnitKind.STORE, id="WAW-01"), WEEK[0], WEEK[-1], scope=krk, time_zone="UTC"
        )
    assert index.reads == []


def test_notable_takes_the_highest_and_the_two_lowest_of_the_rest_ties_to_the_newest_each_once():
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    picked = sections.notable(
        [
            answer(1, at, score=3, comment="older three"),
            answer(2, at + timedelta(hours=1), score=3, comment="newer three"),
            answer(3, at, score=5, comment="   "),  # blank: not a comment
            answer(4, at, score=8, comment="eight " * 100),
            answer(5, at, score=1, comment="one"),
        ],
        "Europe/Warsaw",
    )
    assert [c["score"] for c in picked] == [1, 3, 8]
    assert picked[1]["text"] == "newer three"
    assert len(picked[2]["text"]) == sections.COMMENT_CHARS and picked[2]["text"].endswith("…")
    assert picked[0]["out_of"] == 10 and picked[0]["day"] == date(2026, 11, 25)
    (only,) = sections.notable([answer(1, at, score=7, comment="jedyny")], "UTC")
    assert only["text"] == "jedyny"  # one comment is shown once
    # the highest is never taken for one of the lowest: two comments are the lowest and the highest
    pair = sections.notable([answer(1, at, score=9, comment="nine"), answer(2, at, score=2, comment="two")], "UTC")
    assert [c["text"] for c in pair] == ["two", "nine"]
    assert sections.notable([], "UTC") == []


def test_the_funnel_section_takes_the_response_rate_of_the_invitations_sent():
    from npsloop.domain.funnel import FunnelDay, funnel_of

    day = date(2026, 11, 25)
    found = funnel_of([FunnelDay("all", "all", day, {"invited": 8, "delivered": 6, "answered": 2})], "all", "all",
                      day, day)  # fmt: skip
    assert sections.funnel(found) == {
        "sent": 8, "delivered": 6, "delivered_rate": 75.0, "answered": 2, "response_rate": 25.0,
        "bounced": 0, "bounce_rate": 0.0, "complained": 0,
    }  # fmt: skip
    nothing = funnel_of([], "all", "all", day, day)
    assert sections.funnel(nothing)["response_rate"] is None
