"""Theme aggregates (domain/themes.py): new minus old of the analysis, exactly once per version through the chunks."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from npsloop.domain.programs import load_programs
from npsloop.domain.responses import ResponseAnalysis, text_hash
from npsloop.domain.themes import group_themes, theme_contributions
from npsloop.services.score import ScoreService
from tests.fakes import ListParking
from tests.fakes_score import InMemoryAggregates, record, response
from tests.stream_records import batch

COMMENT = "Kurier spóźnił się dwa dni, a obsługa na infolinii była niemiła."
DIMS = ("store", "region", "channel")


def analysis(
    themes=("delivery", "staff"), sentiment="negative", model="m1", comment=COMMENT, taxonomy="t1"
) -> ResponseAnalysis:
    return ResponseAnalysis(
        sentiment=sentiment,
        themes=themes,
        masked=comment,
        provider="builtin",
        model_version=model,
        taxonomy_version=taxonomy,
        analysed_text_hash=text_hash(comment),
    )


@pytest.fixture
def aggregates() -> InMemoryAggregates:
    return InMemoryAggregates()


@pytest.fixture
def service(aggregates, clock) -> ScoreService:
    return ScoreService(programs=load_programs(), aggregates=aggregates, parking=ListParking(), clock=clock)


def test_an_analysed_detractor_counts_per_theme_sentiment_and_group_in_every_segment():
    new = response(1, 3, comment=COMMENT, analysis=analysis())

    deltas = theme_contributions(None, new, DIMS)

    assert {(k.dimension, k.value) for k in deltas} == {
        ("all", "all"),
        ("store", "S01"),
        ("region", "north"),
        ("channel", "web"),
    }
    # The same day items as the answer's score (domain/aggregates.py)
    assert {k.pk for k in deltas} >= {"AGG#post-purchase-nps#store#2026-11", "AGG#post-purchase-nps#all#2026-11"}
    assert next(iter(deltas.values())).counts == {
        "a#detractor": 1,
        "s#negative#detractor": 1,
        "t#delivery#negative#detractor": 1,
        "t#staff#negative#detractor": 1,
    }


def test_a_response_without_a_current_analysis_counts_nothing():
    assert theme_contributions(None, response(1, 3, comment=COMMENT), DIMS) == {}
    # The comment changed since its analysis: the stale one no longer counts until re-analysed.
    stale = response(1, 3, comment="Wszystko super", analysis=analysis())
    assert theme_contributions(None, stale, DIMS) == {}


def test_a_reanalysis_moves_the_comment_from_its_old_themes_to_its_new_ones():
    old = response(1, 3, comment=COMMENT, analysis=analysis())
    new = response(1, 3, comment=COMMENT, analysis=analysis(themes=("delivery",), sentiment="mixed", model="m2"))

    (delta, *_) = theme_contributions(old, new, DIMS).values()

    assert delta.counts == {
        "s#negative#detractor": -1,
        "s#mixed#detractor": 1,
        "t#delivery#negative#detractor": -1,
        "t#delivery#mixed#detractor": 1,
        "t#staff#negative#detractor": -1,
    }


def test_a_score_change_moves_the_analysis_to_the_new_group():
    old = response(1, 3, comment=COMMENT, analysis=analysis())
    new = response(1, 9, comment=COMMENT, analysis=analysis(), version=2)

    (delta, *_) = theme_contributions(old, new, DIMS).values()

    assert delta.counts["a#detractor"] == -1 and delta.counts["a#promoter"] == 1


def test_replayed_batches_count_each_comment_once_per_version(service, aggregates):
    plain = [response(i, 2 + i % 8, comment=COMMENT) for i in range(10)]
    v1 = [response(i, 2 + i % 8, comment=COMMENT, analysis=analysis()) for i in range(10)]
    v2 = [
        response(i, 2 + i % 8, comment=COMMENT, analysis=analysis(themes=("delivery",), model="m2")) for i in range(10)
    ]
    inserts = batch(*(record("INSERT", new=r) for r in plain))
    analysed = batch(*(record("MODIFY", old=a, new=b) for a, b in zip(plain, v1, strict=True)))
    backfilled = batch(*(record("MODIFY", old=a, new=b) for a, b in zip(v1, v2, strict=True)))

    for event in (inserts, analysed, analysed, backfilled):  # the analysis batch delivered twice
        service.handle(copy.deepcopy(event))
    service.handle(copy.deepcopy(backfilled))  # and the backfill's
    service.handle(copy.deepcopy(analysed))  # even the old batch again, after the new one

    detractors = sum(1 for r in plain if r.score <= 6)
    counts = aggregates.themes()
    assert counts["a#detractor"] == detractors
    assert counts["t#delivery#negative#detractor"] == detractors
    assert "t#staff#negative#detractor" not in counts  # version 1's staff left with it
    assert sum(v for k, v in counts.items() if k.startswith("a#")) == 10
    assert aggregates.counts()[0] == 10  # the score aggregates did not move with the analysis


def test_an_analysed_answer_to_an_invitation_is_one_write_per_day_item_with_all_its_counters(service, aggregates):
    # Score, funnel stage and themes of one answer land on the same days: each key is written once.
    invited = response(1, 3, comment=COMMENT, analysis=analysis()).model_copy(
        update={"invited_at": datetime(2026, 11, 20, 8, 0, tzinfo=UTC)}
    )

    service.handle(batch(record("INSERT", new=invited)))

    written = aggregates.batches_written()
    assert len(written) == 1 and len(aggregates.add_calls) == 4  # all, store, region, channel
    for delta in written[0].values():
        counters = dict(delta.counters())
        assert counters["n"] == counters["c3"] == counters["commented"] == 1
        assert counters["f#answered"] == counters["f#commented"] == 1  # the funnel's, apart from the score's
        assert counters["a#detractor"] == counters["t#delivery#negative#detractor"] == 1
    assert aggregates.counts("store", "S01") == (1, {3: 1})
    assert aggregates.stages("store", "S01") == {"answered": 1, "commented": 1}
    assert aggregates.themes("store", "S01")["t#staff#negative#detractor"] == 1


def test_group_themes_gives_the_share_of_detractors_mentioning_each_theme():
    counts = {
        "a#detractor": 4,
        "t#delivery#negative#detractor": 2,
        "t#delivery#mixed#detractor": 1,
        "t#staff#positive#detractor": 1,
        "t#price#positive#promoter": 5,
    }

    result = group_themes(counts, "detractor")

    assert result.analysed == 4
    assert [(t.theme, t.count, t.share, t.negative) for t in result.themes] == [
        ("delivery", 3, 0.75, 3),
        ("staff", 1, 0.25, 0),
    ]
