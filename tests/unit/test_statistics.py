"""Worked examples for the statistics module (groundwork for scoring aggregates)."""

import pytest

from npsloop.domain.statistics import ces, change, csat, nps


def nps_counts(promoters: int, passives: int, detractors: int) -> dict[int, int]:
    return {10: promoters, 8: passives, 3: detractors}


def test_nps_of_400_with_half_promoters_and_a_fifth_detractors_is_30_with_a_7_6_point_margin():
    result = nps(nps_counts(200, 120, 80))

    assert result.value == 30
    assert 7.6 <= result.margin <= 7.7
    assert result.low == pytest.approx(22.15, abs=0.01)
    assert result.high == pytest.approx(37.40, abs=0.01)
    assert not result.small_sample


def test_the_nps_interval_stays_within_minus_and_plus_100():
    result = nps(nps_counts(5, 0, 0))

    assert result.value == 100
    assert result.high == 100
    assert result.small_sample


def test_csat_of_80_satisfied_in_100_has_the_agresti_coull_interval():
    result = csat({5: 50, 4: 30, 3: 10, 1: 10})

    assert result.value == 80
    assert result.low == pytest.approx(71.04, abs=0.01)
    assert result.high == pytest.approx(86.74, abs=0.01)


def test_ces_gives_a_mean_with_an_interval_and_the_share_of_5_to_7():
    mean, agree = ces({7: 20, 5: 10, 2: 10})

    assert mean.value == pytest.approx(5.25)
    assert mean.low < 5.25 < mean.high
    assert agree.value == 75
    assert mean.n == agree.n == 40


def test_a_segment_below_the_minimum_sample_is_flagged_and_the_minimum_is_configurable():
    counts = nps_counts(10, 5, 5)

    assert nps(counts).small_sample
    assert not nps(counts, minimum_sample=20).small_sample


def test_no_answers_means_no_score_rather_than_zero():
    empty = nps({})

    assert (empty.value, empty.low, empty.high, empty.small_sample) == (None, None, None, True)
    assert change(empty, nps(nps_counts(1, 1, 1))) is None


def test_a_ten_point_drop_is_not_significant_at_400_answers_but_is_at_2000():
    small_before, small_after = nps(nps_counts(200, 120, 80)), nps(nps_counts(180, 120, 100))
    big_before, big_after = nps(nps_counts(1000, 600, 400)), nps(nps_counts(900, 600, 500))

    small, big = change(small_after, small_before), change(big_after, big_before)

    assert small.delta == big.delta == -10
    assert not small.significant
    assert big.significant
    assert big.z < -1.96


def test_a_change_between_small_samples_is_never_significant():
    # 2 promoters then 2 detractors: z is huge, but two answers support no normal approximation.
    before, after = nps(nps_counts(2, 0, 0)), nps(nps_counts(0, 0, 2))
    small = change(after, before)
    same_counts_judged_large = change(
        nps(nps_counts(0, 0, 2), minimum_sample=1), nps(nps_counts(2, 0, 0), minimum_sample=1)
    )

    assert small.delta == -200
    assert same_counts_judged_large.significant
    assert not small.significant


def test_counts_outside_the_scale_are_refused():
    with pytest.raises(ValueError, match="outside the csat scale"):
        csat({6: 1})
