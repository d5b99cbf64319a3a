"""Report definitions: validated on load with field-named errors; periods in the recipient's time zone."""

from datetime import UTC, date, datetime

import pytest

from npsloop.domain.aggregates import PeriodKind
from npsloop.domain.alerts import load_routing
from npsloop.domain.programs import load_programs
from npsloop.domain.reports import (
    Cadence,
    ReportsConfigError,
    ReportUnit,
    UnitKind,
    load_reports,
    parse_reports,
    trend_periods,
    units_of,
)
from npsloop.domain.scope import load_roles, scope_of


def _one(**report):
    base = {
        "id": "weekly",
        "audience": {"roles": ["store-manager"]},
        "cadence": {"every": "week", "weekday": 1},
        "programs": ["post-purchase-nps"],
        "sections": ["scores"],
    }
    return {"schema_version": 1, "report": [base | report]}


def test_the_shipped_file_holds_the_three_reports_of_the_issue_and_names_only_known_programs_and_roles():
    config = load_reports()
    assert [r.id for r in config.report] == ["store-weekly", "region-monthly", "management-monthly"]
    config.check_against([p.id for p in load_programs().program], [r.name for r in load_roles().role])
    weekly, regional, management = config.report
    assert weekly.cadence.schedule_expression() == "cron(0 7 ? * MON *)"
    assert regional.cadence.schedule_expression() == "cron(0 7 1 * ? *)"
    assert management.audience.roles == ("cx-lead",)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cadence": {"every": "week", "day": 3}}, "report[0].cadence"),
        ({"cadence": {"every": "month", "day": 31}}, "report[0].cadence.day"),
        ({"cadence": {"every": "week", "weekday": 1, "time_zone": "Mars/Olympus"}}, "report[0].cadence.time_zone"),
        ({"sections": ["scores", "horoscope"]}, "report[0].sections[1]"),
        ({"sections": ["scores", "scores"]}, "each section once"),
        ({"audience": {}}, "report[0].audience"),
        ({"programs": []}, "report[0].programs"),
        ({"no_answers": "maybe"}, "report[0].no_answers"),
        ({"colour": "red"}, "report[0].colour"),
    ],
)
def test_a_bad_definition_is_refused_naming_its_field(change, field):
    with pytest.raises(ReportsConfigError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_reports(_one(**change))


def test_an_unknown_program_or_role_is_refused_naming_it():
    config = parse_reports(_one(programs=["post-purchase-nps", "nope"], audience={"roles": ["janitor"]}))
    with pytest.raises(ReportsConfigError, match=r"programs\[1\]: unknown program 'nope'.*roles\[0\]: unknown role"):
        config.check_against(["post-purchase-nps"], ["store-manager"])


def test_a_weekly_report_covers_the_last_complete_local_week():
    cadence = Cadence(every="week", weekday=1)
    # Monday 07:00 in Warsaw (06:00 UTC in winter): the week Monday 23 - Sunday 29 November.
    period = cadence.period(datetime(2026, 11, 30, 6, 0, tzinfo=UTC), "Europe/Warsaw")
    assert (period.label, period.start, period.end) == ("2026-W48", date(2026, 11, 23), date(2026, 11, 29))


def test_the_period_is_the_recipients_local_one_not_utcs():
    cadence = Cadence(every="week", weekday=1)
    # Sunday 23:30 UTC is already Monday 00:30 in Warsaw, but still Sunday in London and New York.
    instant = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert cadence.period(instant, "Europe/Warsaw").label == "2026-W48"
    assert cadence.period(instant, "Europe/London").label == "2026-W47"
    assert cadence.period(instant, "America/New_York").label == "2026-W47"


def test_a_monthly_run_across_the_dst_change_reports_the_whole_month_before():
    cadence = Cadence(every="month", day=1)
    # 1 November 2026, 07:00 CET = 06:00 UTC (DST ended on 25 October); 1 April 2026 07:00 CEST = 05:00 UTC.
    october = cadence.period(datetime(2026, 11, 1, 6, 0, tzinfo=UTC), "Europe/Warsaw")
    march = cadence.period(datetime(2026, 4, 1, 5, 0, tzinfo=UTC), "Europe/Warsaw")
    assert (october.start, october.end) == (date(2026, 10, 1), date(2026, 10, 31))
    assert (march.start, march.end) == (date(2026, 3, 1), date(2026, 3, 31))
    # 22:30 UTC on 31 March is already 1 April (00:30 CEST) in Warsaw: March is complete there.
    assert cadence.period(datetime(2026, 3, 31, 22, 30, tzinfo=UTC), "Europe/Warsaw").label == "2026-03"
    assert cadence.period(datetime(2026, 3, 31, 22, 30, tzinfo=UTC), "Europe/Lisbon").label == "2026-02"


def test_the_trend_spans_twelve_periods_ending_with_the_reported_one():
    period = Cadence(every="month", day=1).period(datetime(2026, 1, 1, 8, tzinfo=UTC), "Europe/Warsaw")
    labels = [p.label for p in trend_periods(period, PeriodKind.MONTH)]
    assert labels[0] == "2025-01" and labels[-1] == "2025-12" and len(labels) == 12


def test_each_role_gets_its_own_scope_as_report_blocks():
    roles, routing = load_roles(), load_routing()
    regions = {s.id: s.region for s in routing.store}
    store = routing.store[0]
    store_manager = scope_of("u-1", [f"npsloop-store-{store.id}"], roles, routing)
    regional = scope_of("u-2", [f"npsloop-region-{store.region}"], roles, routing)
    lead = scope_of("u-3", ["npsloop-cx-lead"], roles, routing)
    assert units_of(store_manager, regions) == [ReportUnit(kind=UnitKind.STORE, id=store.id)]
    assert units_of(regional, regions) == [ReportUnit(kind=UnitKind.REGION, id=store.region)]
    assert units_of(lead, regions) == [ReportUnit(kind=UnitKind.NETWORK)]
    both = scope_of("u-4", [f"npsloop-region-{store.region}", f"npsloop-store-{store.id}"], roles, routing)
    assert units_of(both, regions) == [ReportUnit(kind=UnitKind.REGION, id=store.region)]  # the store is inside it
