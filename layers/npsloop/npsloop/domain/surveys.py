"""Survey types and their answer scales."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SurveyType(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"


@dataclass(frozen=True)
class Scale:
    low: int
    high: int

    @property
    def values(self) -> range:
        return range(self.low, self.high + 1)

    def __contains__(self, score: object) -> bool:
        return isinstance(score, int) and not isinstance(score, bool) and self.low <= score <= self.high


SCALES: dict[SurveyType, Scale] = {
    SurveyType.NPS: Scale(0, 10),
    SurveyType.CSAT: Scale(1, 5),
    SurveyType.CES: Scale(1, 7),
}
