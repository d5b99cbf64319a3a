"""The change test and the interval, judged by what they do: false alarms, power, width.

Simulated with a fixed seed. Each sample of n answers is one draw from the exact multinomial
distribution of (promoters, detractors) (tabulated once per n and shares), so 20,000 replications
take a fraction of a second: the estimated false-alarm rate has a standard error of 0.15 points.
"""

from __future__ import annotations

import bisect
import functools
import math
import random
from collections.abc import Callable

import pytest

from npsloop.domain.statistics import Estimate, benjamini_hochberg, ces, change, csat, nps, t_quantile_975

REPLICATIONS = 20_000


@functools.cache
def trinomial(n: int, p_first: float, p_second: float) -> Callable[[random.Random], tuple[int, int]]:
    """A sampler of (first, second) counts among n answers with those shares (the rest are neither).

    Outcomes more than 9 standard deviations from the mean (probability below 1e-18) are left out.
    """
    log_factorial = [math.lgamma(i + 1) for i in range(n + 1)]
    p_rest = 1 - p_first - p_second
    logs = [math.log(p) if p else -math.inf for p in (p_first, p_second, p_rest)]

    def around(p: float) -> range:
        spread = 9 * math.sqrt(n * p * (1 - p)) + 1
        return range(max(0, math.floor(n * p - spread)), min(n, math.ceil(n * p + spread)) + 1)

    outcomes, cumulative, total = [], [], 0.0
    for a in around(p_first):
        for b in around(p_second):
            rest = n - a - b
            if rest < 0:
                break
            terms = (a * logs[0] if a else 0.0) + (b * logs[1] if b else 0.0) + (rest * logs[2] if rest else 0.0)
            if terms == -math.inf:
                continue
            total += math.exp(log_factorial[n] - log_factorial[a] - log_factorial[b] - log_factorial[rest] + terms)
            outcomes.append((a, b))
            cumulative.append(total)

    def draw(rng: random.Random) -> tuple[int, int]:
        return outcomes[min(bisect.bisect_left(cumulative, rng.random() * total), len(outcomes) - 1)]

    return draw


@functools.cache
def nps_of(promoters: int, detractors: int, n: int) -> Estimate:
    return nps({10: promoters, 8: n - promoters - detractors, 3: detractors})


Shares = tuple[float, float]  # promoters, detractors


def alarm_rate(shares_before: Shares, shares_after: Shares, n_before: int, n_after: int) -> float:
    rng = random.Random(20261201)
    before, after = trinomial(n_before, *shares_before), trinomial(n_after, *shares_after)
    alarms = 0
    for _ in range(REPLICATIONS):
        moved = change(nps_of(*after(rng), n_after), nps_of(*before(rng), n_before))
        alarms += moved is not None and moved.significant
    return alarms / REPLICATIONS


@pytest.mark.parametrize("sizes", [(30, 30), (30, 400), (400, 400)], ids=lambda s: f"{s[0]}/{s[1]}")
@pytest.mark.parametrize(
    "shares",
    [(0.50, 0.20), (0.85, 0.05), (0.20, 0.60)],
    ids=["50% promoters 20% detractors", "skewed: 85% promoters 5% detractors", "skewed: 20% promoters 60% detractors"],
)
def test_with_no_real_change_the_change_test_raises_at_most_6_percent_false_alarms(shares, sizes):
    rate = alarm_rate(shares, shares, *sizes)

    assert 0.035 <= rate <= 0.06, f"false-alarm rate {rate:.2%} at nominal 5%"


def test_a_real_20_point_drop_at_400_answers_each_is_detected_nine_times_in_ten():
    # NPS 30 (50% promoters, 20% detractors) -> NPS 10 (40%, 30%).
    assert alarm_rate((0.50, 0.20), (0.40, 0.30), 400, 400) >= 0.9


def test_the_csat_change_test_holds_its_false_alarms_at_30_answers_each():
    rng = random.Random(7)
    draw = trinomial(30, 0.7, 0.0)
    of = functools.cache(lambda k: csat({5: k, 2: 30 - k}))
    alarms = 0
    for _ in range(REPLICATIONS):
        alarms += change(of(draw(rng)[0]), of(draw(rng)[0])).significant
    assert alarms / REPLICATIONS <= 0.06


def test_benjamini_hochberg_matches_the_worked_example():
    # m = 8, q = 0.05: thresholds k/8 * 0.05 = .00625 .0125 .01875 .025 .03125 .0375 .04375 .05.
    # Sorted: .001 .008 .039 .041 .042 .06 .074 .205 -> p_(2) = .008 <= .0125 is the largest k that
    # passes (.039 > .01875, .041 > .025, .042 > .03125, ...): the two smallest are discoveries,
    # although five are below 0.05 alone.
    p = [0.041, 0.001, 0.205, 0.039, 0.008, 0.06, 0.074, 0.042]

    assert benjamini_hochberg(p) == [False, True, False, False, True, False, False, False]
    assert sum(x < 0.05 for x in p) == 5


def test_benjamini_hochberg_keeps_a_smaller_p_value_that_passes_only_through_a_larger_one():
    # .03 alone is above 1/3 * .05, but .04 passes at rank 3 (3/3 * .05): all three are discoveries.
    assert benjamini_hochberg([0.04, 0.03, 0.035]) == [True, True, True]
    assert benjamini_hochberg([]) == []
    with pytest.raises(ValueError, match="between 0 and 1"):
        benjamini_hochberg([0.01], q=0)


def test_the_change_reports_a_two_sided_p_value():
    before, after = nps_of(1000, 400, 2000), nps_of(900, 500, 2000)
    moved = change(after, before)

    assert moved.p_value == pytest.approx(math.erfc(abs(moved.z) / math.sqrt(2)))
    assert moved.p_value < 0.05 and moved.significant and moved.testable


def test_the_ces_interval_of_three_identical_answers_is_wide_and_within_the_scale():
    mean, _ = ces({7: 3})

    assert mean.value == 7
    assert mean.high == 7
    assert mean.low < 5  # three 7s say little: no zero-width interval
    one, _ = ces({4: 1})
    assert (one.low, one.high) == (1, 7)


def test_the_ces_interval_narrows_with_identical_answers_but_never_to_zero():
    widths = [ces({6: n})[0].margin for n in (3, 10, 100, 1000)]

    assert all(w > 0 for w in widths)
    assert widths == sorted(widths, reverse=True)
    assert ces({6: 1000})[0].high - ces({6: 1000})[0].low < 0.1


def test_the_ces_interval_uses_student_t_at_small_n():
    mean, _ = ces({2: 2, 4: 2, 6: 2})  # n = 6, s^2 = 3.2 (above the floor 9 / 7), t(5) = 2.5706

    assert mean.margin == pytest.approx(2.5706 * math.sqrt(3.2 / 6), abs=1e-3)


@pytest.mark.parametrize(
    ("df", "table"), [(1, 12.7062), (2, 4.3027), (3, 3.1824), (5, 2.5706), (10, 2.2281), (30, 2.0423)]
)
def test_the_t_quantile_matches_the_tables(df, table):
    assert t_quantile_975(df) == pytest.approx(table, abs=0.004)
