"""Exact scores from raw counts: NPS, CSAT and CES. Rounding is for display only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from npsloop.domain.surveys import SCALES, SurveyType


@dataclass(frozen=True)
class Score:
    survey_type: SurveyType
    responses: int
    value: Fraction | None  # NPS in points (-100..100), CSAT in % satisfied, CES as the mean
    top_share: Fraction | None = None  # CES only: share answering 5-7

    def display(self) -> str:
        if self.value is None:
            return "n/a"
        if self.survey_type is SurveyType.CES:
            return f"{float(self.value):.2f} (agree {float(self.top_share or 0) * 100:.0f}%)"
        suffix = "%" if self.survey_type is SurveyType.CSAT else ""
        return (
            f"{round(self.value):+d}{suffix}" if self.survey_type is SurveyType.NPS else f"{round(self.value)}{suffix}"
        )


def score(survey_type: SurveyType, counts: Mapping[int, int]) -> Score:
    scale = SCALES[survey_type]
    unknown = [value for value in counts if value not in scale]
    if unknown:
        raise ValueError(f"scores {unknown} are outside the {survey_type.value} scale")
    total = sum(counts.values())
    if total == 0:
        return Score(survey_type, 0, None)
    if survey_type is SurveyType.NPS:
        promoters = counts.get(9, 0) + counts.get(10, 0)
        detractors = sum(counts.get(v, 0) for v in range(7))
        return Score(survey_type, total, Fraction(100 * (promoters - detractors), total))
    if survey_type is SurveyType.CSAT:
        satisfied = counts.get(4, 0) + counts.get(5, 0)
        return Score(survey_type, total, Fraction(100 * satisfied, total))
    mean = Fraction(sum(value * n for value, n in counts.items()), total)
    agree = Fraction(sum(counts.get(v, 0) for v in (5, 6, 7)), total)
    return Score(survey_type, total, mean, agree)
