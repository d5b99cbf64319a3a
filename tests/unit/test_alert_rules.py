"""Alert rules and routing: the shipped config, validation messages, each rule, routing layers."""

from __future__ import annotations

import copy
import tomllib
from datetime import date

import pytest

from npsloop.domain.alerts import (
    DEFAULT_ALERTS_FILE,
    DEFAULT_ROUTING_FILE,
    AlertConfigError,
    Channel,
    Severity,
    case_severity,
    evaluate,
    fold,
    load_alert_rules,
    load_routing,
    parse_alert_rules,
    parse_routing,
)
from npsloop.domain.responses import Response
from tests.fakes_cases import response_image


def raw_rules():
    return tomllib.loads(DEFAULT_ALERTS_FILE.read_text(encoding="utf-8"))


def raw_routing():
    return tomllib.loads(DEFAULT_ROUTING_FILE.read_text(encoding="utf-8"))


def response(**kwargs) -> Response:
    return Response.model_validate(response_image(**kwargs))


RULES = load_alert_rules()
ROUTING = load_routing()


def fired_ids(resp: Response, cluster: bool = False) -> list[str]:
    return [f.rule_id for f in evaluate(RULES, resp, cluster_reached=cluster)]


# -- the shipped files -------------------------------------------------------------------------------
def test_the_shipped_rules_have_the_default_thresholds_and_unique_ids():
    assert (RULES.detractor.thresholds.nps, RULES.detractor.thresholds.csat, RULES.detractor.thresholds.ces) == (
        6,
        2,
        3,
    )
    assert (RULES.cluster.detractors, RULES.cluster.within_hours) == (3, 24)
    assert len({rule.id for rule in RULES.rules()}) == 5
    (staff,) = RULES.theme
    assert (staff.id, staff.themes, staff.sentiments, staff.opens_case) == (
        "negative-staff-comment",
        ("staff",),
        ("negative", "mixed"),
        False,
    )


def test_the_shipped_routing_has_the_polish_holidays_of_2026_and_2027():
    holidays = set(ROUTING.holidays)
    assert {date(2026, 4, 6), date(2026, 6, 4), date(2026, 12, 24), date(2027, 3, 29), date(2027, 5, 27)} <= holidays
    assert len(holidays) == 28


# -- validation names the field ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["detractor"]["thresholds"].update(nps=11), "detractor.thresholds.nps: Input should be less than"),
        (lambda r: r["keywords"].update(severity="urgent"), "keywords.severity: Input should be 'high', 'normal'"),
        (lambda r: r["cluster"].update(detractors=1), "cluster.detractors: Input should be greater than or equal to 2"),
        (lambda r: r["vip"].pop("opens_case"), "vip.opens_case: Field required"),
        (lambda r: r["vip"].update(id="detractor"), "rule ids must be unique: ['detractor']"),
        (lambda r: r["keywords"].update(pl=[], en=[]), "keywords: Value error, needs at least one keyword"),
        (lambda r: r["keywords"].update(en=["re*fund"]), "keyword 're*fund' must be letters"),
        (lambda r: r["cases"].update(root_causes=["Price"]), "cases.root_causes[0]: String should match pattern"),
        (lambda r: r.update(surprise=1), "surprise: Extra inputs are not permitted"),
    ],
)
def test_a_bad_rules_file_names_the_field(change, message):
    raw = copy.deepcopy(raw_rules())
    change(raw)
    with pytest.raises(AlertConfigError, match="alerts: ") as caught:
        parse_alert_rules(raw)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["fallback"].update(time_zone="Mars/Base"), "fallback.time_zone: Value error, not a known IANA"),
        (
            lambda r: r["fallback"].update(channel="pigeon"),
            "fallback.channel: Input should be 'sns', 'email' or 'both'",
        ),
        (lambda r: r["sla_hours"].pop("high"), "sla_hours.high: Field required"),
        (lambda r: r["region"][0]["owner"].update(email="not-an-address"), "region[0].owner.email: String should"),
        (lambda r: r["store"][0].update(region="atlantis"), "names region 'atlantis', which has no [[region]]"),
        (lambda r: r["holidays"].append("2026-02-30"), "holidays[28]: Input should be a valid date"),
        (lambda r: r["working_hours"].update(start="18:00:00"), "working_hours: Value error, start must be before"),
        (lambda r: r["region"][0].update(calendar="mars"), "names calendar 'mars', which has no [calendars] entry"),
        (lambda r: r["calendars"].update(default={"holidays": []}), "[calendars.default] is implicit"),
        (lambda r: r["calendars"]["scotland"]["holidays"].append("2026-13-01"), "calendars.scotland.holidays[18]"),
    ],
)
def test_a_bad_routing_file_names_the_field(change, message):
    raw = copy.deepcopy(raw_routing())
    change(raw)
    with pytest.raises(AlertConfigError) as caught:
        parse_routing(raw)
    assert message in str(caught.value)


def test_a_file_that_is_not_toml_says_so(tmp_path):
    bad = tmp_path / "alerts.toml"
    bad.write_text("schema_version = ", encoding="utf-8")
    with pytest.raises(AlertConfigError, match=r"alerts\.toml: not valid TOML"):
        load_alert_rules(bad)


# -- the rules ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("survey_type", "score", "fires"),
    [
        ("nps", 6, True),
        ("nps", 7, False),
        ("nps", 0, True),
        ("csat", 2, True),
        ("csat", 3, False),
        ("ces", 3, True),
        ("ces", 4, False),
    ],
)
def test_the_detractor_threshold_depends_on_the_survey_type(survey_type, score, fires):
    assert ("detractor" in fired_ids(response(survey_type=survey_type, score=score))) is fires


@pytest.mark.parametrize(
    ("comment", "found"),
    [
        ("REZYGNUJĘ z waszych usług", ["rezygnuje"]),
        ("Złożyłem reklamację dwa razy", ["reklamacje"]),
        ("To jest OSZUSTWO", ["oszustwo"]),
        ("I want a Refund, or I call my lawyer", ["lawyer", "refund"]),
        ("Please cancel my order", ["cancel"]),
        ("Nigdy   więcej tu nie przyjdę", ["nigdy wiecej"]),
    ],
)
def test_keywords_match_whole_words_ignoring_case_and_diacritics(comment, found):
    assert RULES.keywords.matches(comment) == found


@pytest.mark.parametrize("comment", ["uncancelled order arrived", "refundacja NFZ", "sądzę, że ok", "issue"])
def test_keywords_do_not_match_inside_other_words(comment):
    assert RULES.keywords.matches(comment) == []


def test_a_trailing_star_matches_any_ending():
    assert RULES.keywords.matches("Reklamacji nikt nie rozpatrzył, fraudulent!") == ["fraudulent", "reklamacji"]


def test_a_keyword_fires_for_a_promoter_too_and_carries_the_words():
    (fired,) = evaluate(RULES, response(score=10, comment="Great, but I want a refund"))
    assert (fired.rule_id, fired.keywords, fired.severity) == ("comment-keyword", ("refund",), Severity.HIGH)


def test_fold_removes_polish_diacritics_including_l_with_stroke():
    assert fold("ŁÓDŹ Żółć") == "lodz zolc"


@pytest.mark.parametrize(("survey_type", "score", "fires"), [("nps", 8, True), ("nps", 9, False), ("csat", 3, True)])
def test_a_vip_alerts_below_promoter(survey_type, score, fires):
    assert ("vip-not-promoter" in fired_ids(response(survey_type=survey_type, score=score, vip=True))) is fires
    assert "vip-not-promoter" not in fired_ids(response(survey_type=survey_type, score=score, vip=False))


def test_the_raw_count_cluster_rule_is_off_and_the_trend_rule_replaces_it():
    assert RULES.cluster.enabled is False
    assert "store-cluster" not in fired_ids(response(score=2), cluster=True)
    assert RULES.trend is not None and RULES.trend.enabled
    assert (RULES.trend.recent_days, RULES.trend.baseline_days) == (14, 56)


def test_the_cluster_rule_fires_only_when_the_service_says_the_cluster_is_reached():
    rules = RULES.model_copy(update={"cluster": RULES.cluster.model_copy(update={"enabled": True})})

    assert "store-cluster" in [f.rule_id for f in evaluate(rules, response(score=2), cluster_reached=True)]
    assert "store-cluster" not in [f.rule_id for f in evaluate(rules, response(score=2))]


def test_a_promoter_fires_nothing_and_the_case_takes_the_highest_severity():
    assert evaluate(RULES, response(score=10)) == []
    fired = evaluate(RULES, response(score=2, comment="oszustwo"))
    assert case_severity(fired) is Severity.HIGH
    assert case_severity(evaluate(RULES, response(score=2))) is Severity.NORMAL
    assert case_severity(evaluate(RULES, response(score=10))) is None


def test_a_disabled_rule_never_fires():
    raw = raw_rules()
    raw["detractor"]["enabled"] = False
    assert evaluate(parse_alert_rules(raw), response(score=0)) == []


# -- routing --------------------------------------------------------------------------------------
def test_a_store_entry_overrides_its_region_which_overrides_the_fallback():
    route = ROUTING.route({"store": "KRK-02", "region": "somewhere-else"})
    assert (route.owner.id, route.manager.id, route.team, route.matched) == (
        "u-ewa.mazur",
        "u-piotr.wisniewski",
        "pl-south",
        "store",
    )
    assert route.channel is Channel.BOTH


def test_a_store_without_an_entry_is_routed_by_the_context_region():
    route = ROUTING.route({"store": "LON-02", "region": "london"})
    assert (route.owner.id, route.time_zone, route.channel, route.matched) == (
        "u-james.smith",
        "Europe/London",
        Channel.SNS,
        "region",
    )


def test_an_unknown_store_and_region_go_to_the_fallback_owner_in_warsaw_time():
    route = ROUTING.route({"store": "XXX-99", "region": "nowhere"})
    assert (route.owner.id, route.manager.id, route.time_zone, route.matched) == (
        "cx-desk",
        "cx-lead",
        "Europe/Warsaw",
        "fallback",
    )


def test_sla_hours_per_severity():
    assert [ROUTING.sla_hours.of(s) for s in Severity] == [8, 16, 40]
    assert ROUTING.calendar.is_working_day(date(2026, 11, 20))
    assert not ROUTING.calendar.is_working_day(date(2026, 11, 11))


def test_uk_regions_use_their_own_bank_holidays_and_poland_the_default():
    assert ROUTING.route({"store": "GLA-01", "region": "scotland"}).calendar == "scotland"
    assert ROUTING.route({"store": "LON-01", "region": "london"}).calendar == "england-wales"
    assert ROUTING.route({"store": "WAW-01", "region": "mazowieckie"}).calendar == "default"
    scotland, england = ROUTING.calendar_for("scotland"), ROUTING.calendar_for("england-wales")
    assert not scotland.is_working_day(date(2026, 11, 30))  # St Andrew's Day
    assert england.is_working_day(date(2026, 11, 30))
    assert not england.is_working_day(date(2026, 8, 31)) and scotland.is_working_day(date(2026, 8, 31))
    assert not scotland.is_working_day(date(2026, 8, 3)) and england.is_working_day(date(2026, 8, 3))
    assert england.is_working_day(date(2026, 11, 11))  # a Polish holiday, not a British one
    assert not ROUTING.calendar.is_working_day(date(2026, 11, 11))


def test_every_shipped_uk_bank_holiday_falls_on_a_weekday_and_easter_is_right():
    for name in ("england-wales", "scotland"):
        holidays = ROUTING.calendars[name].holidays
        assert all(day.isoweekday() <= 5 for day in holidays), name
        assert {date(2026, 4, 3), date(2027, 3, 26)} <= set(holidays)  # Good Friday (Easter 5 Apr / 28 Mar)
    assert {date(2026, 4, 6), date(2027, 3, 29)} <= set(ROUTING.calendars["england-wales"].holidays)


def test_an_unknown_calendar_name_falls_back_to_the_default():
    assert ROUTING.calendar_for("removed-later") == ROUTING.calendar
