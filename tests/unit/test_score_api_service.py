"""The score API's service over in-memory aggregates: periods, groups, intervals, changes, validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from npsloop.domain.programs import load_programs
from npsloop.services.score import ScoreService
from npsloop.services.scores import InvalidQuery, ScoreQuery, ScoresService, UnknownProgram
from tests.fakes import ListParking
from tests.fakes_score import InMemoryAggregates, record, response
from tests.stream_records import batch

NOV = datetime(2026, 11, 10, 12, tzinfo=UTC)
OCT = datetime(2026, 10, 10, 12, tzinfo=UTC)


@pytest.fixture
def aggregates() -> InMemoryAggregates:
    return InMemoryAggregates()


@pytest.fixture
def fill(aggregates, clock):
    scorer = ScoreService(programs=load_programs(), aggregates=aggregates, parking=ListParking(), clock=clock)
    numbers = iter(range(1, 10**6))

    def add(scores: dict[int, int], at: datetime = NOV, **context) -> None:
        records = [
            record("INSERT", new=response(next(numbers), score, created_at=at, **context))
            for score, k in scores.items()
            for _ in range(k)
        ]
        for start in range(0, len(records), 100):
            scorer.handle(batch(*records[start : start + 100]))

    return add


@pytest.fixture
def scores(aggregates, clock) -> ScoresService:
    return ScoresService(programs=load_programs(), aggregates=aggregates, clock=clock)


def query(**params) -> ScoreQuery:
    return ScoreQuery.model_validate(params)


def test_the_month_so_far_by_default_with_nps_30_and_its_interval(scores, fill):
    fill({10: 200, 8: 120, 3: 80})  # n=400, 50% promoters, 20% detractors

    body = scores.scores("post-purchase-nps", query())

    assert (body["from"], body["to"], body["period"], body["group_by"]) == ("2026-11-01", "2026-11-20", "month", "all")
    ((group,),) = [body["groups"]]
    (period,) = group["periods"]
    assert (group["value"], period["period"], period["n"]) == ("all", "2026-11", 400)
    assert period["score"] == 30.0 and period["display"] == 30
    assert 7.6 <= period["interval"]["margin"] <= 7.7
    assert period["interval"]["low"] == pytest.approx(22.15, abs=0.01)
    assert period["counts"]["10"] == 200 and period["counts"]["0"] == 0 and len(period["counts"]) == 11
    assert period["small_sample"] is False
    assert period["change"] is None  # nothing in October


def test_the_change_against_the_previous_month_with_its_significance(scores, fill):
    fill({10: 180, 8: 120, 3: 100}, at=OCT)  # NPS 20
    fill({10: 200, 8: 120, 3: 80})  # NPS 30

    (period,) = scores.scores("post-purchase-nps", query())["groups"][0]["periods"]

    assert period["change"]["previous_period"] == "2026-10"
    assert period["change"]["delta"] == 10
    assert period["change"]["significant"] is False
    assert 0 < period["change"]["z"] < 1.96


def test_the_nps_of_one_store_this_month(scores, fill):
    fill({10: 20, 0: 10}, store="S07")
    fill({10: 5}, store="S08")

    body = scores.scores("post-purchase-nps", query(group_by="store", value="S07"))

    (group,) = body["groups"]
    (period,) = group["periods"]
    assert (group["value"], period["n"], period["display"]) == ("S07", 30, 33)
    assert period["small_sample"] is False


def test_groups_by_store_by_week_with_small_samples_flagged(scores, fill):
    fill({9: 3}, store="S01", at=datetime(2026, 11, 3, tzinfo=UTC))
    fill({2: 40}, store="S02", at=datetime(2026, 11, 17, tzinfo=UTC))

    body = scores.scores("post-purchase-nps", query(group_by="store", period="week", min_sample="30"))

    assert [g["value"] for g in body["groups"]] == ["S01", "S02"]
    s01, s02 = body["groups"]
    assert [p["period"] for p in s01["periods"]] == ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    assert s01["periods"][0]["from"] == "2026-11-01" and s01["periods"][-1]["to"] == "2026-11-20"  # clipped
    assert s01["periods"][1]["n"] == 3 and s01["periods"][1]["small_sample"] is True
    assert s02["periods"][3]["score"] == -100 and s02["periods"][3]["small_sample"] is False
    assert s02["periods"][2]["score"] is None and s02["periods"][2]["interval"] is None


def test_min_sample_defaults_to_the_configured_floor_and_cannot_go_below_it(scores, fill):
    fill({10: 40})

    assert scores.scores("post-purchase-nps", query())["min_sample"] == 30
    assert scores.scores("post-purchase-nps", query(min_sample="50"))["min_sample"] == 50
    with pytest.raises(InvalidQuery, match=r"min_sample 5 is below this deployment's floor of 30 .*programs.toml"):
        scores.scores("post-purchase-nps", query(min_sample="5"))


def test_stores_below_the_minimum_sample_are_listed_apart_and_the_rest_ranked_by_the_interval_low(scores, fill):
    fill({10: 3}, store="TINY-1")  # NPS 100 from three answers: first by score, never ranked
    fill({10: 1}, store="TINY-2")
    fill({10: 21, 8: 7, 3: 7}, store="FEW")  # n 35, NPS 40, a wide interval
    fill({10: 200, 8: 130, 3: 70}, store="MANY")  # n 400, NPS 32.5, a narrow one

    body = scores.scores("post-purchase-nps", query(group_by="store"))

    by_value = {g["value"]: g for g in body["groups"]}
    assert by_value["FEW"]["total"]["score"] > by_value["MANY"]["total"]["score"]
    assert by_value["FEW"]["total"]["interval"]["low"] < by_value["MANY"]["total"]["interval"]["low"]
    assert body["ranking"]["ranked"] == ["MANY", "FEW"]
    assert body["ranking"]["unranked"] == ["TINY-1", "TINY-2"]
    assert [by_value[v]["rank"] for v in ("MANY", "FEW", "TINY-1", "TINY-2")] == [1, 2, None, None]
    assert by_value["TINY-1"]["total"] | {"interval": None} == {
        "n": 3,
        "score": 100,
        "display": 100,
        "interval": None,
        "small_sample": True,
    }


def test_the_overall_score_is_not_a_ranking(scores, fill):
    fill({10: 40})

    assert scores.scores("post-purchase-nps", query())["ranking"] is None


def test_changes_across_many_stores_are_controlled_for_multiple_comparisons(scores, fill):
    steady = {10: 20, 8: 10, 3: 10}
    for i in range(18):
        fill(steady, store=f"S{i:02d}", at=OCT)
        fill(steady, store=f"S{i:02d}")
    fill(steady, store="CHANCE", at=OCT)
    fill({10: 12, 8: 10, 3: 18}, store="CHANCE")  # -40 points at 40 answers: p = 0.039 alone
    fill({10: 30, 8: 5, 3: 5}, store="REAL", at=OCT)
    fill({10: 5, 8: 5, 3: 30}, store="REAL")  # -125 points: p ~ 2e-9

    body = scores.scores("post-purchase-nps", query(group_by="store"))

    changes = {g["value"]: g["periods"][0]["change"] for g in body["groups"]}
    assert 0.01 < changes["CHANCE"]["p_value"] < 0.05  # significant alone...
    assert changes["CHANCE"]["significant"] is False  # ...but not one of 20
    assert changes["REAL"]["significant"] is True
    assert not any(c["significant"] for v, c in changes.items() if v != "REAL")
    assert (
        body["significance"]
        == "pooled two-sided z-test, Benjamini-Hochberg q=0.05 across 20 changes (20 groups x 1 period)"
    )


def test_a_change_involving_a_small_sample_is_left_out_of_the_family(scores, fill):
    fill({10: 30, 8: 5, 3: 5}, store="REAL", at=OCT)
    fill({10: 5, 8: 5, 3: 30}, store="REAL")
    fill({10: 2}, store="TINY", at=OCT)
    fill({3: 2}, store="TINY")

    body = scores.scores("post-purchase-nps", query(group_by="store"))

    tiny = next(g for g in body["groups"] if g["value"] == "TINY")["periods"][0]["change"]
    assert (tiny["testable"], tiny["significant"]) == (False, False)
    assert "across 1 change (2 groups x 1 period)" in body["significance"]


def test_ces_reports_the_mean_and_the_share_answering_5_to_7(aggregates, clock):
    scorer = ScoreService(programs=load_programs(), aggregates=aggregates, parking=ListParking(), clock=clock)
    answers = [7] * 20 + [5] * 10 + [2] * 10
    scorer.handle(
        batch(
            *[
                record("INSERT", new=response(i, s, created_at=NOV, program_id="support-ces", survey_type="ces"))
                for i, s in enumerate(answers)
            ]
        )
    )

    body = ScoresService(programs=load_programs(), aggregates=aggregates, clock=clock).scores("support-ces", query())

    (period,) = body["groups"][0]["periods"]
    assert body["survey_type"] == "ces"
    assert period["score"] == pytest.approx(5.25) and period["display"] == 5.2
    assert period["agree"]["score"] == 75 and period["agree"]["display"] == 75
    assert set(period["counts"]) == {str(s) for s in range(1, 8)}


def test_reads_are_one_query_whatever_the_number_of_responses(scores, fill, aggregates):
    fill({9: 10}, store="S01")
    scores.scores("post-purchase-nps", query(group_by="store"))
    few = (aggregates.queries, aggregates.items_read)

    fill({9: 1000, 3: 500}, store="S01")
    aggregates.queries = aggregates.items_read = 0
    scores.scores("post-purchase-nps", query(group_by="store"))

    assert (aggregates.queries, aggregates.items_read) == few == (1, 1)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-11-10", "to": "2026-11-01"}, "after"),
        ({"from": "2025-01-01", "to": "2026-11-01"}, "at most 400"),
        ({"group_by": "colour"}, "not a dimension of post-purchase-nps"),
        ({"value": "S01"}, "name its dimension with group_by"),
    ],
)
def test_impossible_queries_are_refused_with_the_reason(scores, params, message):
    with pytest.raises(InvalidQuery, match=message):
        scores.scores("post-purchase-nps", query(**params))


@pytest.mark.parametrize(
    "params",
    [{"from": "yesterday"}, {"period": "year"}, {"min_sample": "0"}, {"grop_by": "store"}, {"group_by": "A B"}],
)
def test_malformed_queries_fail_validation(params):
    with pytest.raises(ValidationError):
        query(**params)


def test_an_unknown_program_is_not_found(scores):
    with pytest.raises(UnknownProgram):
        scores.scores("no-such-program", query())


def test_each_group_carries_its_score_groups_top_themes_with_shares(aggregates, clock):
    from npsloop.services.themes import describe, top_detractor_themes
    from tests.unit.test_theme_aggregates import analysis

    scorer = ScoreService(programs=load_programs(), aggregates=aggregates, parking=ListParking(), clock=clock)
    comment = "Kurier spóźnił się trzy dni."
    delivery = analysis(themes=("delivery",), comment=comment)
    staff = analysis(themes=("staff", "delivery"), sentiment="positive", comment=comment)
    answers = [
        response(1, 2, store="S01", comment=comment, created_at=NOV, analysis=delivery),
        response(2, 3, store="S01", comment=comment, created_at=NOV, analysis=delivery),
        response(3, 5, store="S02", comment=comment, created_at=NOV, analysis=staff),
        response(4, 4, store="S02", comment=comment, created_at=NOV),  # not analysed yet
        response(5, 10, store="S02", comment=comment, created_at=NOV, analysis=staff),
    ]
    scorer.handle(batch(*(record("INSERT", new=r) for r in answers)))
    service = ScoresService(programs=load_programs(), aggregates=aggregates, clock=clock, themes=aggregates)

    body = service.scores("post-purchase-nps", query(group_by="store"))

    s01, s02 = body["groups"]
    assert s01["themes"]["detractor"] == {
        "analysed": 2,
        "top": [{"theme": "delivery", "count": 2, "share": 1.0, "negative": 2}],
    }
    assert s02["themes"]["detractor"]["top"] == [
        {"theme": "delivery", "count": 1, "share": 1.0, "negative": 0},
        {"theme": "staff", "count": 1, "share": 1.0, "negative": 0},
    ]
    assert s02["themes"]["promoter"]["analysed"] == 1
    per_program = top_detractor_themes(aggregates, ["post-purchase-nps"], NOV.date(), NOV.date())
    assert [(t.theme, t.count) for t in per_program["post-purchase-nps"].themes] == [("delivery", 3), ("staff", 1)]
    assert describe(per_program) == [
        "post-purchase-nps: delivery 100% (3), staff 33% (1) of 3 analysed detractor comments"
    ]


def test_an_invocations_scores_read_each_range_once_and_answer_as_the_service_does(scores, fill, aggregates):
    fill({10: 30, 2: 10}, store="WAW-01")
    fill({9: 5, 0: 20}, store="KRK-02")
    fill({10: 3}, at=OCT, store="KRK-02")
    wide = query(**{"from": "2026-10-01", "to": "2026-11-20", "group_by": "store", "value": "WAW-01"})
    others = [
        query(**{"from": "2026-10-01", "to": "2026-11-20", "group_by": "store", "value": "KRK-02"}),
        query(**{"from": "2026-11-01", "to": "2026-11-20", "group_by": "store", "period": "week"}),
        query(**{"from": "2026-11-05", "to": "2026-11-12", "group_by": "store", "value": "KRK-02"}),
    ]
    expected = [scores.scores("post-purchase-nps", q) for q in (wide, *others)]
    read_before = aggregates.queries

    kept = scores.for_invocation()
    answers = [kept.scores("post-purchase-nps", q) for q in (wide, *others)]

    assert answers == expected
    assert aggregates.queries - read_before == 1  # the ranges inside the first read come from it
    assert scores.for_invocation().scores("post-purchase-nps", wide) == expected[0]
    assert aggregates.queries - read_before == 2  # another invocation reads afresh
