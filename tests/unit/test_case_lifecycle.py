"""Working-time SLAs, the case transition table, and the sweep (escalation once, unreachable retries)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from npsloop.clock import ManualClock
from npsloop.domain.alerts import Severity, case_severity, evaluate, load_alert_rules, load_routing
from npsloop.domain.brand import load_brand
from npsloop.domain.cases import TRANSITIONS, Case, CaseStatus, InvalidCaseUpdate
from npsloop.domain.responses import Response
from npsloop.domain.scope import load_roles, scope_of
from npsloop.domain.working_time import WorkingCalendar
from npsloop.notices import Notifier
from npsloop.ports.cases import VersionConflict
from npsloop.services.cases import CaseForbidden, CaseService, CaseUpdate, SweepIncomplete
from tests.fakes_cases import InMemoryCases, RecordingBus, RecordingTopic, response_image

RULES = load_alert_rules()
ROUTING = load_routing()
ROLES = load_roles()
CAL = ROUTING.calendar
S = CaseStatus
WARSAW = "Europe/Warsaw"


def caller(subject, *groups):
    return scope_of(subject, groups, ROLES, ROUTING)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- working time -----------------------------------------------------------------------------------
def test_hours_inside_one_working_day():
    # Friday 20 Nov 2026, 10:30 UTC = 11:30 Warsaw; 4 working hours later is 15:30 Warsaw.
    assert CAL.add_working_hours(utc(2026, 11, 20, 10, 30), 4, WARSAW) == utc(2026, 11, 20, 14, 30)


def test_the_clock_stops_over_the_weekend():
    # Friday 11:30 Warsaw + 8 h: 5.5 h on Friday, 2.5 h on Monday 23 Nov -> 11:30 Warsaw.
    assert CAL.add_working_hours(utc(2026, 11, 20, 10, 30), 8, WARSAW) == utc(2026, 11, 23, 10, 30)


def test_an_answer_at_night_starts_the_clock_at_nine():
    # Saturday 02:00 -> Monday 09:00 + 2 h = 11:00 Warsaw (10:00 UTC).
    assert CAL.add_working_hours(utc(2026, 11, 21, 1, 0), 2, WARSAW) == utc(2026, 11, 23, 10, 0)


def test_a_public_holiday_is_skipped():
    # Tuesday 10 Nov 16:00 Warsaw + 2 h: 1 h on Tuesday, Wednesday 11 Nov is Independence Day, 1 h Thursday.
    assert CAL.add_working_hours(utc(2026, 11, 10, 15, 0), 2, WARSAW) == utc(2026, 11, 12, 9, 0)


def test_christmas_eve_christmas_and_the_weekend_are_skipped():
    # Wednesday 23 Dec 2026 16:00 + 2 h -> Monday 28 Dec 10:00 Warsaw.
    assert CAL.add_working_hours(utc(2026, 12, 23, 15, 0), 2, WARSAW) == utc(2026, 12, 28, 9, 0)


def test_the_store_time_zone_decides_the_working_window():
    # 16:30 UTC is 17:30 in Warsaw (closed) but 16:30 in London (half an hour left).
    start = utc(2026, 11, 18, 16, 30)
    assert CAL.add_working_hours(start, 1, WARSAW) == utc(2026, 11, 19, 9, 0)
    assert CAL.add_working_hours(start, 1, "Europe/London") == utc(2026, 11, 19, 9, 30)


def test_a_working_day_across_the_daylight_saving_change_keeps_its_local_hours():
    # Friday 23 Oct 2026 16:00 CEST + 2 h: Monday 26 Oct (CET) 10:00 local = 09:00 UTC.
    assert CAL.add_working_hours(utc(2026, 10, 23, 14, 0), 2, WARSAW) == utc(2026, 10, 26, 9, 0)


def test_the_next_working_day_at_nine_store_time():
    assert CAL.next_working_day_start(utc(2026, 11, 20, 10, 0), WARSAW) == utc(2026, 11, 23, 8, 0)
    assert CAL.next_working_day_start(utc(2026, 11, 10, 10, 0), WARSAW) == utc(2026, 11, 12, 8, 0)
    assert CAL.next_working_day_start(utc(2026, 11, 20, 10, 0), "Europe/London") == utc(2026, 11, 23, 9, 0)


def test_a_calendar_must_have_a_working_window():
    with pytest.raises(ValueError, match="start before it ends"):
        WorkingCalendar(time(17), time(9), frozenset({1}), frozenset())
    with pytest.raises(ValueError, match="weekdays"):
        WorkingCalendar(time(9), time(17), frozenset(), frozenset({date(2026, 1, 1)}))


# -- cases ------------------------------------------------------------------------------------------
OPENED = utc(2026, 11, 20, 10, 30)


def new_case(store: str = "WAW-02", score: int = 3, comment: str | None = None, **kw) -> Case:
    response = Response.model_validate(response_image(score=score, comment=comment, store=store, **kw))
    fired = evaluate(RULES, response)
    return Case.open(
        response=response,
        fired=fired,
        severity=Severity.NORMAL,
        route=ROUTING.route(response.context),
        sla_hours=ROUTING.sla_hours,
        calendar=CAL,
        now=OPENED,
    )


def move(case: Case, status: S, root_cause: str | None = None, at: datetime = OPENED) -> Case:
    return case.change(
        actor="u-anna.nowak",
        now=at,
        calendar=CAL,
        root_causes=RULES.cases.root_causes,
        status=status,
        root_cause=root_cause,
    )


def at_status(status: S) -> Case:
    path = {
        S.OPEN: [],
        S.IN_PROGRESS: [S.IN_PROGRESS],
        S.CONTACTED: [S.IN_PROGRESS, S.CONTACTED],
        S.UNREACHABLE: [S.IN_PROGRESS, S.UNREACHABLE],
        S.RESOLVED: [S.IN_PROGRESS, S.CONTACTED, S.RESOLVED],
        S.CLOSED: [S.IN_PROGRESS, S.CONTACTED, S.CLOSED],
    }[status]
    case = new_case()
    for step in path:
        case = move(case, step, root_cause="price" if step is S.RESOLVED else None)
    return case


def test_a_new_case_has_its_owner_manager_and_a_working_time_sla():
    case = new_case()
    assert (case.case_id, case.status, case.version) == ("inv-1", S.OPEN, 1)
    assert (case.owner.id, case.manager.id, case.team) == ("u-anna.nowak", "u-piotr.wisniewski", "pl-central")
    # normal = 16 working hours from Friday 11:30 Warsaw: 5.5 h Fri, 8 h Mon, 2.5 h Tue -> Tue 11:30 Warsaw.
    assert case.sla_due_at == utc(2026, 11, 24, 10, 30)
    assert case.rules == ("detractor",)


ALL = [(a, b) for a in S for b in S]


@pytest.mark.parametrize(("current", "wanted"), [(a, b) for a, b in ALL if b in TRANSITIONS[a]])
def test_every_allowed_transition(current, wanted):
    case = at_status(current)
    moved = move(case, wanted, root_cause="price" if wanted is S.RESOLVED else None)
    assert (moved.status, moved.version) == (wanted, case.version + 1)
    assert (moved.history[-1].from_status, moved.history[-1].to_status) == (current, wanted)


@pytest.mark.parametrize(("current", "wanted"), [(a, b) for a, b in ALL if b not in TRANSITIONS[a]])
def test_every_other_transition_is_refused_with_a_reason(current, wanted):
    with pytest.raises(InvalidCaseUpdate) as caught:
        move(at_status(current), wanted, root_cause="price")
    assert caught.value.reason.startswith(f"cannot go from {current.value} to {wanted.value}: ")
    assert caught.value.code == "invalid_transition"


def test_the_reason_for_open_to_resolved_says_what_to_do():
    with pytest.raises(InvalidCaseUpdate, match="cannot go from open to resolved: take the case first"):
        move(new_case(), S.RESOLVED, root_cause="price")


def test_resolving_needs_a_root_cause_from_the_configured_list():
    contacted = at_status(S.CONTACTED)
    with pytest.raises(InvalidCaseUpdate, match="give a root_cause") as caught:
        move(contacted, S.RESOLVED)
    assert caught.value.code == "root_cause_required"
    with pytest.raises(InvalidCaseUpdate, match="unknown root cause 'weather'") as caught:
        move(contacted, S.RESOLVED, root_cause="weather")
    assert caught.value.code == "unknown_root_cause"
    resolved = move(contacted, S.RESOLVED, root_cause="delivery")
    assert (resolved.root_cause, resolved.closed_at, resolved.closed_event_pending) == ("delivery", OPENED, True)


def test_notes_keep_author_and_time_and_a_final_case_takes_only_notes():
    case = new_case().change(actor="u-x", now=OPENED, calendar=CAL, root_causes=(), note="  Called, voicemail  ")
    assert [(n.author, n.at, n.text) for n in case.notes] == [("u-x", OPENED, "Called, voicemail")]
    closed = at_status(S.CLOSED)
    noted = closed.change(actor="u-x", now=OPENED, calendar=CAL, root_causes=(), note="customer wrote back")
    assert noted.notes[-1].text == "customer wrote back"
    with pytest.raises(InvalidCaseUpdate, match="only takes notes"):
        closed.change(actor="u-x", now=OPENED, calendar=CAL, root_causes=("price",), root_cause="price")
    with pytest.raises(InvalidCaseUpdate, match="nothing to change"):
        closed.change(actor="u-x", now=OPENED, calendar=CAL, root_causes=())


def test_unreachable_schedules_a_retry_next_working_day_at_nine_store_time():
    unreachable = at_status(S.UNREACHABLE)  # Friday 20 Nov
    assert unreachable.retry_at == utc(2026, 11, 23, 8, 0)
    assert unreachable.contact_attempted_at == OPENED
    assert move(unreachable, S.IN_PROGRESS).retry_at is None


# -- the sweep --------------------------------------------------------------------------------------
@pytest.fixture
def world():
    clock = ManualClock(OPENED)
    store, bus, topic = InMemoryCases(), RecordingBus(), RecordingTopic()
    service = CaseService(
        rules=RULES,
        routing=ROUTING,
        cases=store,
        bus=bus,
        notifier=Notifier(topic, None, None, load_brand()),
        public_base_url="https://npsloop.example.com",
        clock=clock,
        claims=store,
    )
    return clock, store, bus, topic, service


def test_an_overdue_case_escalates_once_to_the_managers_channel(world):
    clock, store, _bus, topic, service = world
    store.create(new_case())
    clock.set(utc(2026, 11, 24, 10, 29))
    assert service.sweep()["escalated"] == 0
    clock.set(utc(2026, 11, 24, 10, 30))
    assert service.sweep()["escalated"] == 1
    clock.advance(timedelta(hours=5))
    assert service.sweep()["escalated"] == 0
    (notice,) = topic.messages
    assert (notice.attributes["kind"], notice.body["recipient_id"]) == ("escalation", "u-piotr.wisniewski")
    case = store.get("inv-1")
    assert (case.escalated_at, case.version, case.status) == (utc(2026, 11, 24, 10, 30), 2, S.OPEN)


def test_a_save_that_fails_after_the_escalation_notice_never_sends_it_twice(world):
    # GIVEN an overdue case whose save fails once the notice has gone out
    clock, store, _bus, topic, service = world
    store.create(new_case())
    clock.set(utc(2026, 11, 24, 10, 30))
    store.fail_saves.add("inv-1")

    # WHEN the sweep runs, fails for that case, and the next tick (or a replay) runs again
    with pytest.raises(SweepIncomplete):
        service.sweep()
    store.fail_saves.clear()
    clock.advance(timedelta(minutes=15))
    assert service.sweep()["escalated"] == 1
    assert service.sweep()["escalated"] == 0

    # THEN the manager got one notice and the case is escalated
    assert [m.attributes["kind"] for m in topic.messages] == ["escalation"]
    assert store.get("inv-1").escalated_at == utc(2026, 11, 24, 10, 45)


def test_a_replayed_tick_sends_no_second_escalation_notice(world):
    # GIVEN a tick that sent the notice, and a replay of the same tick that read the case before it was saved
    clock, store, _bus, topic, service = world
    store.create(new_case())
    clock.set(utc(2026, 11, 24, 10, 30))
    stale = store.get("inv-1")
    assert service.sweep()["escalated"] == 1

    # WHEN the replay escalates its stale copy
    store.cases["inv-1"] = stale  # as if the first tick's save had not happened
    assert service.sweep()["escalated"] == 1

    # THEN still one notice
    assert len(topic.messages) == 1


def test_a_notice_that_failed_is_sent_at_the_next_tick(world):
    clock, store, _bus, topic, service = world
    store.create(new_case())
    clock.set(utc(2026, 11, 24, 10, 30))
    topic.failures = 1

    with pytest.raises(SweepIncomplete):
        service.sweep()
    assert topic.messages == [] and store.get("inv-1").escalated_at is None  # still due

    clock.advance(timedelta(minutes=15))
    assert service.sweep()["escalated"] == 1
    assert [m.attributes["kind"] for m in topic.messages] == ["escalation"]


def test_one_failing_case_does_not_stop_the_sweep_and_the_invocation_reports_it(world):
    # GIVEN three overdue cases, the first of which cannot be saved
    clock, store, _bus, topic, service = world
    for invitation_id in ("inv-1", "inv-2", "inv-3"):
        store.create(new_case(invitation_id=invitation_id))
    clock.set(utc(2026, 11, 24, 10, 30))
    store.fail_saves.add("inv-1")

    # WHEN the sweep runs
    with pytest.raises(SweepIncomplete, match="1 case"):
        service.sweep()

    # THEN the others are escalated and the failing one stays due
    assert [store.get(i).escalated_at is not None for i in ("inv-1", "inv-2", "inv-3")] == [False, True, True]
    assert len(topic.messages) == 3  # each notice once; inv-1's is done and will not repeat


def test_a_case_contacted_in_time_never_escalates(world):
    clock, store, _bus, topic, service = world
    store.create(move(new_case(), S.IN_PROGRESS))
    store.save(move(store.get("inv-1"), S.CONTACTED), expected_version=2)
    clock.advance(timedelta(days=30))
    assert service.sweep()["escalated"] == 0
    assert topic.messages == []


def test_an_unreachable_case_reopens_the_next_working_day_and_notifies_the_owner(world):
    clock, store, _bus, topic, service = world
    store.create(at_status(S.UNREACHABLE))  # retry Monday 23 Nov 09:00 Warsaw
    clock.set(utc(2026, 11, 23, 7, 59))
    assert service.sweep()["reopened"] == 0
    clock.set(utc(2026, 11, 23, 8, 0))
    assert service.sweep()["reopened"] == 1
    assert service.sweep()["reopened"] == 0
    case = store.get("inv-1")
    assert (case.status, case.retry_at, case.retry_count, case.history[-1].by) == (S.IN_PROGRESS, None, 1, "npsloop")
    (notice,) = topic.messages
    assert (notice.attributes["kind"], notice.body["recipient_id"]) == ("retry", "u-anna.nowak")
    clock.advance(timedelta(days=20))
    assert service.sweep()["escalated"] == 0  # the contact attempt met the SLA


def test_the_sweep_republishes_a_case_closed_event_the_api_could_not(world):
    _clock, store, bus, _topic, service = world
    store.create(at_status(S.IN_PROGRESS))
    admin = caller("someone", "npsloop-admin")
    service.update("inv-1", admin, CaseUpdate(status=S.CONTACTED))
    bus.failures = 1
    closed = service.update("inv-1", admin, CaseUpdate(status=S.CLOSED))
    assert closed.closed_event_pending and bus.of("CaseClosed") == []
    assert service.sweep()["closed_events"] == 1
    assert service.sweep()["closed_events"] == 0
    (event,) = bus.of("CaseClosed")
    assert (event["event_id"], event["status"]) == ("npsloop:CaseClosed:inv-1", "closed")


def test_updates_check_who_and_which_version(world):
    _clock, store, bus, _topic, service = world
    store.create(new_case())
    with pytest.raises(CaseForbidden):
        service.update("inv-1", caller("u-stranger"), CaseUpdate(status=S.IN_PROGRESS))
    with pytest.raises(VersionConflict):
        service.update("inv-1", caller("u-anna.nowak"), CaseUpdate(status=S.IN_PROGRESS, expected_version=7))
    updated = service.update("inv-1", caller("u-piotr.wisniewski"), CaseUpdate(status=S.IN_PROGRESS))
    assert updated.version == 2
    resolved = None
    for status, cause in ((S.CONTACTED, None), (S.RESOLVED, "price")):
        resolved = service.update("inv-1", caller("u-anna.nowak"), CaseUpdate(status=status, root_cause=cause))
    assert resolved.status is S.RESOLVED and not resolved.closed_event_pending
    assert [e["status"] for e in bus.of("CaseClosed")] == ["resolved"]


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        (None, "https://abc.execute-api.eu-west-1.amazonaws.com/cases/inv-1"),
        ("https://npsloop.example.com", "https://npsloop.example.com/cases/inv-1"),
    ],
)
def test_case_closed_links_the_case_by_the_configured_url_or_else_the_requests(configured, expected):
    store, bus = InMemoryCases(), RecordingBus()
    service = CaseService(
        rules=RULES,
        routing=ROUTING,
        cases=store,
        bus=bus,
        notifier=None,
        public_base_url=configured,
        clock=ManualClock(OPENED),
    )
    store.create(at_status(S.CONTACTED))
    service.update(
        "inv-1",
        caller("someone", "npsloop-admin"),
        CaseUpdate(status=S.CLOSED),
        request_base_url="https://abc.execute-api.eu-west-1.amazonaws.com",
    )
    (event,) = bus.of("CaseClosed")
    assert event["case_url"] == expected


def test_an_unreachable_case_retries_on_its_own_calendars_next_working_day(world):
    clock, store, _bus, _topic, service = world
    store.create(move(new_case(store="GLA-01", region="scotland"), S.IN_PROGRESS))
    assert store.get("inv-1").calendar == "scotland"
    clock.set(utc(2026, 11, 27, 12, 0))  # Friday; Monday 30 Nov is St Andrew's Day in Scotland
    changed = service.update("inv-1", caller("someone", "npsloop-admin"), CaseUpdate(status=S.UNREACHABLE))
    assert changed.retry_at == utc(2026, 12, 1, 9, 0)  # Tuesday, 09:00 in Glasgow (GMT)


def test_a_resolved_case_and_an_older_answer_are_not_followed():
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    v1 = Response.model_validate(response_image("inv-1", score=3, comment="a"))
    v3 = Response.model_validate(response_image("inv-1", score=8, comment="b", version=3))
    v2 = Response.model_validate(response_image("inv-1", score=1, comment="c", version=2))
    rules = load_alert_rules()
    fired = evaluate(rules, v1)
    route = load_routing().route(v1.context)
    case = Case.open(
        response=v1,
        fired=fired,
        severity=case_severity(fired),
        route=route,
        sla_hours=load_routing().sla_hours,
        calendar=load_routing().calendar,
        now=now,
    )

    followed = case.follow_answer(v3, now)
    assert followed is not None and followed.score == 8
    assert followed.follow_answer(v2, now) is None  # an older version arriving late changes nothing
    assert followed.follow_answer(v3, now) is None  # the same one again neither
    closed = followed.model_copy(update={"status": CaseStatus.CLOSED})
    assert closed.follow_answer(Response.model_validate(response_image("inv-1", score=0, version=4)), now) is None
