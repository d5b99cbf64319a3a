"""Honest statistics from score counts: 95% intervals, small-sample flags and change significance.

- NPS: adjusted-Wald interval (add 3/4 of a response to promoters and to detractors, 3 to n), the
  interval used for NPS in the usability literature (Sauro & Lewis); its variance is
  p_pro + p_det - (p_pro - p_det)^2.
- CSAT (share answering 4-5): adjusted-Wald (Agresti-Coull) interval for a proportion.
- CES: mean with a Student t interval (n - 1 degrees of freedom), clipped to the 1-7 scale. Its
  variance is never taken below the largest variance the scale allows over n + 1 ((7 - 1)^2 / 4 /
  (n + 1)), so identical answers at small n (three 7s) give a wide interval, not a zero-width one;
  the floor fades as n grows and binds only when the answers barely vary. The share answering 5-7
  has an Agresti-Coull interval.
- Change between two periods: a two-sided two-sample z-test of the difference of the two scores,
  with the variance pooled under the null hypothesis (both periods share one distribution of
  answers: the two periods' answers together give the promoter/detractor shares, or the CES
  variance). The unpooled variances of the two intervals make the test too eager at n = 30 (about
  7% false alarms at a nominal 5%); pooled, it holds about 5% from n = 30
  (tests/unit/test_statistics.py simulates it). A change involving a small sample is never significant.
- Many tests at once (a store table, a scan of every store) are controlled with Benjamini-Hochberg
  (``benjamini_hochberg``): the false-discovery rate across the family stays at ``q``.

Everything is computed from exact counts; rounding is for display only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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
    # Each answer's contribution to the score and how many answered so (NPS: +100 / 0 / -100 for a
    # promoter / passive / detractor; CSAT and shares: 100 / 0; CES mean: the answer): the score is
    # their mean, and the change test pools them across periods.
    answers: tuple[tuple[float, int], ...] = ()

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
    p_value: float
    significant: bool  # this test alone at 5%; a family of tests applies ``benjamini_hochberg`` to p_value
    testable: bool = True  # False when a period is a small sample: never significant, left out of a family


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
        ((100.0, promoters), (0.0, n - promoters - detractors), (-100.0, detractors)),
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
    satisfied = counts.get(4, 0) + counts.get(5, 0)
    value, low, high, variance = _share(satisfied, n)
    return Estimate(
        SurveyType.CSAT, n, value, low, high, variance, n < minimum_sample, ((100.0, satisfied), (0.0, n - satisfied))
    )


def ces(counts: Mapping[int, int], minimum_sample: int = DEFAULT_MINIMUM_SAMPLE) -> tuple[Estimate, Estimate]:
    """The mean effort score and the share answering 5-7, each with its interval."""
    n = _check(SurveyType.CES, counts)
    if n == 0:
        empty = Estimate(SurveyType.CES, 0, None, None, None, None, True)
        return empty, empty
    mean = sum(value * k for value, k in counts.items()) / n
    scale_low, scale_high = 1, 7
    sample_variance = sum(k * (value - mean) ** 2 for value, k in counts.items()) / max(n - 1, 1)
    # The floor: the largest variance the scale allows ((high - low)^2 / 4), spread over n + 1
    # answers. It binds only when the answers barely vary (identical answers at small n).
    floor = (scale_high - scale_low) ** 2 / 4 / (n + 1)
    variance = max(sample_variance, floor) / n
    margin = t_quantile_975(n - 1) * math.sqrt(variance) if n > 1 else float(scale_high - scale_low)
    small = n < minimum_sample
    mean_estimate = Estimate(
        SurveyType.CES,
        n,
        mean,
        max(float(scale_low), mean - margin),
        min(float(scale_high), mean + margin),
        variance,
        small,
        tuple((float(value), k) for value, k in sorted(counts.items()) if k),
    )
    agree = sum(counts.get(s, 0) for s in (5, 6, 7))
    value, low, high, share_variance = _share(agree, n)
    agree_answers = ((100.0, agree), (0.0, n - agree))
    return mean_estimate, Estimate(SurveyType.CES, n, value, low, high, share_variance, small, agree_answers)


def t_quantile_975(df: int) -> float:
    """The 97.5% quantile of Student's t (a two-sided 95% interval): exact for 1 and 2 degrees of
    freedom, a Cornish-Fisher expansion beyond (within 0.004 of the tables at 3, 0.001 from 4 on)."""
    if df < 1:
        raise ValueError("a t quantile needs at least one degree of freedom")
    if df == 1:
        return math.tan(math.pi * 0.475)
    if df == 2:
        return 0.95 / math.sqrt(2 * 0.975 * 0.025)
    z, v = Z_95, float(df)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4)
    )


def change(current: Estimate, previous: Estimate) -> Change | None:
    """The change from ``previous`` to ``current`` and whether it is significant at 5% (two-sided).

    The variance is pooled under the null hypothesis that both periods draw from one distribution
    of answers: the variance of both periods' answers together, times 1/n1 + 1/n2. The z-test leans
    on the normal approximation, which small samples do not support: a change involving a period
    flagged ``small_sample`` is never called significant, whatever its z.
    """
    if current.value is None or previous.value is None:
        return None
    delta = current.value - previous.value
    together: dict[float, int] = {}
    for points, k in (*current.answers, *previous.answers):
        together[points] = together.get(points, 0) + k
    n = sum(together.values())
    mean = sum(points * k for points, k in together.items()) / n
    variance = sum(k * (points - mean) ** 2 for points, k in together.items()) / n
    spread = math.sqrt(variance * (1 / current.n + 1 / previous.n))
    z = delta / spread if spread > 0 else 0.0
    p_value = math.erfc(abs(z) / math.sqrt(2))
    testable = not (current.small_sample or previous.small_sample)
    return Change(delta=delta, z=z, p_value=p_value, significant=testable and p_value < 0.05, testable=testable)


def benjamini_hochberg(p_values: Sequence[float], q: float = 0.05) -> list[bool]:
    """Which of a family of tests are discoveries with the false-discovery rate held at ``q``.

    Sort the m p-values; find the largest rank k with p_(k) <= k/m * q; the k smallest are
    discoveries (Benjamini & Hochberg 1995, valid for independent or positively dependent tests).
    Returned in the order given.
    """
    if not 0 < q < 1:
        raise ValueError("q is a rate between 0 and 1")
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    cutoff = 0
    for rank, index in enumerate(order, start=1):
        if p_values[index] <= rank / m * q:
            cutoff = rank
    found = [False] * m
    for index in order[:cutoff]:
        found[index] = True
    return found
