from fractions import Fraction

import pytest

from npsloop.domain.scoring import score
from npsloop.domain.surveys import SurveyType


def test_nps_is_promoters_minus_detractors_with_passives_in_the_total():
    # 200 promoters (50%), 120 passives, 80 detractors (20%) of 400
    result = score(SurveyType.NPS, {10: 120, 9: 80, 8: 70, 7: 50, 6: 40, 0: 40})

    assert result.responses == 400
    assert result.value == 30
    assert result.display() == "+30"


def test_nps_stays_exact_until_display():
    result = score(SurveyType.NPS, {10: 1, 8: 1, 3: 1})

    assert result.value == Fraction(0)
    assert score(SurveyType.NPS, {10: 2, 5: 1}).value == Fraction(100, 3)


def test_csat_is_the_share_of_4_and_5():
    assert score(SurveyType.CSAT, {5: 3, 4: 3, 3: 2, 1: 2}).value == 60


def test_ces_gives_the_mean_and_the_share_of_5_to_7():
    result = score(SurveyType.CES, {7: 2, 5: 1, 2: 1})

    assert result.value == Fraction(21, 4)
    assert result.top_share == Fraction(3, 4)


def test_no_responses_means_no_score_rather_than_zero():
    assert score(SurveyType.NPS, {}).value is None


def test_a_score_outside_the_scale_is_an_error():
    with pytest.raises(ValueError, match="outside the csat scale"):
        score(SurveyType.CSAT, {0: 1})
