"""The whole-number NPS for display (an addition to npsloop.domain.statistics for the score API)."""

from npsloop.domain.statistics import nps, rounded


def test_nps_for_display_is_the_exact_score_rounded_half_away_from_zero():
    assert nps({10: 200, 8: 120, 3: 80}).whole == 30
    assert nps({10: 57, 8: 29, 3: 14}).whole == 43
    assert nps({10: 1, 3: 1}).whole == 0
    assert nps({}).whole is None
    assert (rounded(28.5), rounded(29.5), rounded(-28.5), rounded(-0.4)) == (29, 30, -29, 0)
