"""The dashboard's URL filters: parsed, refused with a reason, and written back into links."""

from datetime import date

import pytest

from npsloop.domain.aggregates import PeriodKind
from npsloop.domain.surveys import SurveyType
from npsloop.domain.view_filters import InvalidFilters, ScoreGroup, ViewFilters, group_of


def test_a_query_string_round_trips_through_the_model():
    query = {"program": "post-purchase-nps", "period": "month", "from": "2026-09-01", "to": "2026-11-30",
             "store": "KRK-02", "group": "detractor", "q": "kolejka"}  # fmt: skip
    view = ViewFilters.parse(query)
    assert view.period is PeriodKind.MONTH and view.from_ == date(2026, 9, 1) and view.group is ScoreGroup.DETRACTOR
    assert view.segment == ("store", "KRK-02")
    assert view.query() == query


def test_context_keys_are_segments_too():
    view = ViewFilters.parse({"ctx.product": "espresso-machine", "lang": "pl", "cursor": "abc"})
    assert view.segment == ("product", "espresso-machine")
    assert view.query() == {"ctx.product": "espresso-machine"}


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"store": "KRK-02", "region": "malopolskie"}, "one segment at a time, not store and region"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "is after to"),
        ({"period": "year"}, "period:"),
        ({"score": "11"}, "score:"),
        ({"colour": "red"}, "colour:"),
        ({"ctx.Bad-Key": "x"}, "ctx.Bad-Key"),
    ],
)
def test_an_impossible_view_is_refused_with_its_reason(query, reason):
    with pytest.raises(InvalidFilters, match=reason):
        ViewFilters.parse(query)


def test_the_window_defaults_to_the_last_90_days_and_is_capped():
    assert ViewFilters.parse({}).window(date(2026, 12, 1)) == (date(2026, 9, 3), date(2026, 12, 1))
    with pytest.raises(InvalidFilters, match="at most 400"):
        ViewFilters.parse({"from": "2025-01-01", "to": "2026-12-01"}).window(date(2026, 12, 1))


def test_a_drill_down_link_replaces_the_segment_and_keeps_the_rest():
    view = ViewFilters.parse({"program": "post-purchase-nps", "region": "malopolskie", "from": "2026-11-01"})
    assert view.href("/answers", store="KRK-02", group="detractor") == (
        "/answers?program=post-purchase-nps&from=2026-11-01&store=KRK-02&group=detractor"
    )
    assert view.href("/dashboard", region=None) == "/dashboard?program=post-purchase-nps&from=2026-11-01"


@pytest.mark.parametrize(
    ("survey", "score", "group"),
    [(SurveyType.NPS, 6, "detractor"), (SurveyType.NPS, 7, "passive"), (SurveyType.NPS, 9, "promoter"),
     (SurveyType.CSAT, 3, "passive"), (SurveyType.CES, 3, "detractor"), (SurveyType.CES, 5, "promoter")],
)  # fmt: skip
def test_every_scale_has_three_groups(survey, score, group):
    assert group_of(survey, score) == group


def test_with_a_comment_only_is_a_filter_of_the_view_and_nothing_else_is_accepted_for_it():
    view = ViewFilters.parse({"store": "KRK-02", "comment": "1"})
    assert view.comment == "1" and view.query() == {"store": "KRK-02", "comment": "1"}
    assert view.href("/answers.csv") == "/answers.csv?store=KRK-02&comment=1"
    with pytest.raises(InvalidFilters, match="comment:"):
        ViewFilters.parse({"comment": "yes"})


def test_theme_and_sentiment_round_trip_and_refuse_what_is_no_theme_or_sentiment():
    view = ViewFilters.parse({"store": "KRK-02", "theme": "delivery", "sentiment": "negative"})

    assert (view.theme, view.sentiment) == ("delivery", "negative")
    assert view.query() == {"store": "KRK-02", "theme": "delivery", "sentiment": "negative"}
    assert view.href("/answers", sentiment=None) == "/answers?store=KRK-02&theme=delivery"
    with pytest.raises(InvalidFilters, match="sentiment"):
        ViewFilters.parse({"sentiment": "angry"})
    with pytest.raises(InvalidFilters, match="theme"):
        ViewFilters.parse({"theme": "<script>"})
