"""Aggregate contributions, coalescing, chunking and periods (npsloop.domain.aggregates)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from npsloop.domain.aggregates import (
    AggregateKey,
    PeriodKind,
    chunks,
    coalesce,
    contributions,
    month_spans,
    partition_of,
    partition_parts,
    period_of,
    periods_between,
    previous_period,
)
from npsloop.domain.programs import ProgramConfigError, load_programs, parse_programs
from tests.fakes_score import response

DIMS = ("store", "region", "channel")
DAY = date(2026, 11, 20)


def key(dimension: str = "all", value: str = "all", day: date = DAY) -> AggregateKey:
    return AggregateKey("post-purchase-nps", dimension, value, day)


def test_an_insert_adds_one_at_its_score_to_the_overall_and_each_dimension_aggregate():
    deltas = contributions(None, response(1, 9, comment="great"), DIMS)

    assert set(deltas) == {key(), key("store", "S01"), key("region", "north"), key("channel", "web")}
    assert all((d.n, d.counts, d.commented) == (1, {9: 1}, 1) for d in deltas.values())
    assert key().pk == "AGG#post-purchase-nps#all#2026-11"
    assert key("store", "S01").sk == "2026-11-20#S01"


def test_a_key_is_in_the_partition_of_its_dimension_and_utc_month():
    assert key("store", "S01", date(2026, 10, 31)).pk == "AGG#post-purchase-nps#store#2026-10"
    assert key("store", "S01", date(2026, 11, 1)).pk == "AGG#post-purchase-nps#store#2026-11"
    assert AggregateKey("nps-shop", "region", "x", date(2027, 1, 9)).pk == "AGG#nps-shop#region#2027-01"
    assert partition_of("nps-shop", "device", date(2026, 2, 28)) == "AGG#nps-shop#device#2026-02"


def test_a_partition_reads_back_as_program_dimension_and_month():
    assert partition_parts("AGG#post-purchase-nps#store#2026-11") == ("post-purchase-nps", "store", "2026-11")
    assert partition_parts(partition_of("a-1", "ctx_size", date(2026, 9, 3))) == ("a-1", "ctx_size", "2026-09")
    with pytest.raises(ValueError, match="not an aggregate partition"):
        partition_parts("AGG#post-purchase-nps#store")  # a partition without its month is no aggregate partition


def test_a_range_is_split_into_its_part_of_each_month_in_order():
    assert month_spans(date(2026, 9, 20), date(2026, 11, 5)) == [
        (date(2026, 9, 20), date(2026, 9, 30)),
        (date(2026, 10, 1), date(2026, 10, 31)),
        (date(2026, 11, 1), date(2026, 11, 5)),
    ]
    assert month_spans(date(2026, 11, 3), date(2026, 11, 3)) == [(date(2026, 11, 3), date(2026, 11, 3))]
    assert month_spans(date(2025, 12, 31), date(2026, 1, 1)) == [
        (date(2025, 12, 31), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 1, 1)),
    ]
    assert len(month_spans(date(2025, 12, 2), date(2026, 11, 30))) == 12
    assert month_spans(date(2026, 11, 5), date(2026, 11, 4)) == []


def test_a_response_counts_on_its_utc_day():
    late = response(1, 9, created_at=datetime(2026, 11, 20, 23, 30, tzinfo=UTC).astimezone())
    early_in_warsaw = response(2, 9, created_at=datetime.fromisoformat("2026-11-21T00:30:00+01:00"))

    assert {k.day for k in contributions(None, late, DIMS)} == {DAY}
    assert {k.day for k in contributions(None, early_in_warsaw, DIMS)} == {DAY}


def test_a_changed_score_moves_the_count_and_leaves_n_alone():
    deltas = contributions(response(1, 3), response(1, 9, version=2), DIMS)

    assert {(d.n, tuple(sorted(d.counts.items()))) for d in deltas.values()} == {(0, ((3, -1), (9, 1)))}


def test_a_comment_only_change_touches_no_count_but_commented():
    deltas = contributions(response(1, 7), response(1, 7, comment="slow delivery", version=2), DIMS)

    assert {(d.n, tuple(d.counts.items()), d.commented) for d in deltas.values()} == {(0, (), 1)}


def test_a_change_that_moves_nothing_writes_nothing():
    assert contributions(response(1, 7, comment="x"), response(1, 7, comment="y", version=2), DIMS) == {}


def test_a_remove_takes_one_away_at_the_old_score():
    deltas = contributions(response(1, 2, comment="bad"), None, DIMS)

    assert all((d.n, d.counts, d.commented) == (-1, {2: -1}, -1) for d in deltas.values())


def test_only_the_program_dimensions_present_in_the_context_count():
    deltas = contributions(None, response(1, 9), ("store", "device"))

    assert set(deltas) == {key(), key("store", "S01")}


def test_contributions_sharing_a_key_coalesce_into_one_delta_and_cancelling_ones_vanish():
    inserted = contributions(None, response(1, 9), DIMS)
    removed = contributions(response(1, 9), None, DIMS)
    other = contributions(None, response(2, 4, store="S02"), DIMS)

    total = coalesce([inserted, other, contributions(None, response(3, 10), DIMS)])
    assert total[key()].n == 3 and total[key()].counts == {9: 1, 4: 1, 10: 1}
    assert total[key("store", "S01")].counts == {9: 1, 10: 1}
    assert total[key("store", "S02")].counts == {4: 1}
    assert coalesce([inserted, removed]) == {}


def test_chunks_are_the_longest_runs_in_record_order_that_fit_the_key_limit():
    planned = [(i, contributions(None, response(i, 9, store=f"S{i:02d}"), DIMS)) for i in range(10)]

    split = chunks(planned, max_keys=6)  # all + region + channel + 3 stores

    assert [c.records for c in split] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert all(len(c.updates()) <= 6 for c in split)
    assert chunks(planned[3:], max_keys=6)[0].records == [3, 4, 5]  # the same split from the same record


def test_records_touching_only_known_keys_join_the_current_chunk():
    planned = [(i, contributions(None, response(i, i % 11), DIMS)) for i in range(100)]

    (only,) = chunks(planned, max_keys=99)

    assert len(only.records) == 100
    assert only.updates()[key()].n == 100


def test_iso_weeks_start_on_monday_and_months_are_calendar_months():
    assert period_of(DAY, PeriodKind.WEEK).label == "2026-W47"
    assert (period_of(DAY, PeriodKind.WEEK).start, period_of(DAY, PeriodKind.WEEK).end) == (
        date(2026, 11, 16),
        date(2026, 11, 22),
    )
    assert period_of(date(2027, 1, 1), PeriodKind.WEEK).label == "2026-W53"
    assert period_of(DAY, PeriodKind.MONTH).end == date(2026, 11, 30)
    assert period_of(date(2028, 2, 10), PeriodKind.MONTH).end == date(2028, 2, 29)
    assert previous_period(period_of(date(2026, 1, 5), PeriodKind.MONTH), PeriodKind.MONTH).label == "2025-12"
    assert [p.label for p in periods_between(date(2026, 10, 30), date(2026, 12, 1), PeriodKind.MONTH)] == [
        "2026-10",
        "2026-11",
        "2026-12",
    ]


def test_programs_name_their_dimensions_with_store_region_channel_by_default():
    catalogue = load_programs()
    assert catalogue.program[0].dimensions == ("store", "region", "channel")

    raw = _raw_program(dimensions=["store", "device"])
    assert parse_programs(raw).program[0].dimensions == ("store", "device")


@pytest.mark.parametrize(
    ("dimensions", "message"),
    [
        (["store", "store"], "each may appear once"),
        (["all"], "'all' is the overall score"),
        (["Store"], "dimensions"),
        ([f"d{i}" for i in range(9)], "dimensions"),
    ],
)
def test_bad_dimensions_are_refused_with_the_field_named(dimensions, message):
    with pytest.raises(ProgramConfigError, match=message):
        parse_programs(_raw_program(dimensions=dimensions))


def _raw_program(**extra):
    return {
        "schema_version": 1,
        "program": [
            {
                "id": "p",
                "version": 1,
                "name": "P",
                "label": {"pl": "P", "en": "P"},
                "survey": "nps",
                "recontact_days": 30,
                "template": {"id": "survey-invitation", "version": 1},
                "trigger": {"source": "acme.shop", "detail_type": "OrderCompleted"},
                "subject": {"pl": "a", "en": "b"},
                "question": {"pl": "a", "en": "b"},
                **extra,
            }
        ],
    }
