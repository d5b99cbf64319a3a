"""Honest statistics from score counts: 95% intervals, small-sample flags and change significance.

- NPS: adjusted-Wald interval (add 3/4 of a response to promoters and to detractors, 3 to n), the
  interval used for NPS in the usability literature (Sauro & Lewis); its variance is
  p_pro + p_det - (p_pro - p_det)^2.
- CSAT (share answering 4-5): adjusted-Wald (Agresti-Coull) interval for a proportion.
- CES: mean with a normal-approximation interval from the sample variance, and the share
  answering 5-7 with an Agresti-Coull interval.
- Change between two periods: a two-sided z-test on the difference of the two estimates, with the
  same variances; "significant" at the 5% level.

Everything is computed from exact counts; rounding is for display only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from npsloop.domain.scoring import score
from npsloop.domain.surveys import SurveyType

Z_95 = 1.959963984540054
DEFAULT_MINIMUM_SAMPLE = 30


@dataclass(frozen=True)
class Estimate:
    """A score with its 95% interval. NPS and shares are in points (-100..100 or 0..100)."""

    survey_type: SurveyType
    n: int
    value: float | None
    low: float | None
    high: float | None
    variance: float | None  # of the estimator, in the estimate's own units squared
    small_sample: bool

    @property
    def margin(self) -> float | None:
        return None if self.low is None or self.high is None else (self.high - self.low) / 2

    @property
    def whole(self) -> int | None:
        """The value as a whole number for display (NPS 29.5 -> 30), rounded half away from zero."""
        return None if self.value is None else rounded(self.value)

    def display(self) -> str:
        if self.value is None:
            return "n/a"
        flag = " (small sample)" if self.small_sample else ""
        return f"{round(self.value)} [{round(self.low or 0)}, {round(self.high or 0)}]{flag}"


@dataclass(frozen=True)
class Change:
    delta: float
    z: float
    significant: bool


def rounded(value: float) -> int:
    """Half away from zero, as people round (Python's round() sends 28.5 to 28 and 29.5 to 30)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _check(survey_type: SurveyType, counts: Mapping[int, int]) -> int:
    if any(n < 0 for n in counts.values()):
        raise ValueError("counts cannot be negative")
    return score(survey_type, counts).responses  # also refuses scores outside the scale


def nps(counts: Mapping[int, int], minimum_sample: int = DEFAULT_MINIMUM_SAMPLE) -> Estimate:
    n = _check(SurveyType.NPS, counts)
    if n == 0:
        return Estimate(SurveyType.NPS, 0, None, None, None, None, True)
    promoters = counts.get(9, 0) + counts.get(10, 0)
    detractors = sum(counts.get(value, 0) for value in range(7))
    value = float(score(SurveyType.NPS, counts).value or 0)  # the exact point estimate, as a float
    n_adj = n + 3
    p_pro = (promoters + 0.75) / n_adj
    p_det = (detractors + 0.75) / n_adj
    centre = p_pro - p_det
    variance = (p_pro + p_det - centre**2) / n_adj
    margin = Z_95 * math.sqrt(variance)
    return Estimate(
        SurveyType.NPS,
        n,
        value,
        100 * max(-1.0, centre - margin),
        100 * min(1.0, centre + margin),
        variance * 100**2,
        n < minimum_sample,
    )


def _share(hits: int, n: int) -> tuple[float, float, float, float]:
    """Share in points with its Agresti-Coull interval and variance."""
    n_adj = n + Z_95**2
    p_adj = (hits + Z_95**2 / 2) / n_adj
    variance = p_adj * (1 - p_adj) / n_adj
    margin = Z_95 * math.sqrt(variance)
    return 100 * hits / n, 100 * max(0.0, p_adj - margin), 100 * min(1.0, p_adj + margin), variance * 100**2


def csat(counts: Mapping[int, int], minimum_sample: int = DEFAULT_MINIMUM_SAMPLE) -> Estimate:
    n = _check(SurveyType.CSAT, counts)
    if n == 0:
        return Estimate(SurveyType.CSAT, 0, None, None, None, None, True)
    value, low, high, variance = _share(counts.get(4, 0) + counts.get(5, 0), n)
    return Estimate(SurveyType.CSAT, n, value, low, high, variance, n < minimum_sample)


def ces(counts: Mapping[int, int], minimum_sample: int = DEFAULT_MINIMUM_SAMPLE) -> tuple[Estimate, Estimate]:
    """The mean effort score and the share answering 5-7, each with its interval."""
    n = _check(SurveyType.CES, counts)
    if n == 0:
        empty = Estimate(SurveyType.CES, 0, None, None, None, None, True)
        return empty, empty
    mean = sum(value * k for value, k in counts.items()) / n
    sample_variance = sum(k * (value - mean) ** 2 for value, k in counts.items()) / max(n - 1, 1)
    variance = sample_variance / n
    margin = Z_95 * math.sqrt(variance)
    small = n < minimum_sample
    mean_estimate = Estimate(SurveyType.CES, n, mean, mean - margin, mean + margin, variance, small)
    value, low, high, share_variance = _share(sum(counts.get(s, 0) for s in (5, 6, 7)), n)
    return mean_estimate, Estimate(SurveyType.CES, n, value, low, high, share_variance, small)


def change(current: Estimate, previous: Estimate) -> Change | None:
    """The change from ``previous`` to ``current`` and whether it is significant at 5% (two-sided).

    The z-test leans on the normal approximation, which small samples do not support: a change
    involving a period flagged ``small_sample`` is never called significant, whatever its z.
    """
    if current.value is None or previous.value is None or current.variance is None or previous.variance is None:
        return None
    delta = current.value - previous.value
    spread = math.sqrt(current.variance + previous.variance)
    z = delta / spread if spread > 0 else 0.0
    testable = not (current.small_sample or previous.small_sample)
    return Change(delta=delta, z=z, significant=testable and abs(z) > Z_95)
