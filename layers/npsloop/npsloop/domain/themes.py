"""Theme aggregates: analysed comments per program x dimension x value x UTC day, by theme, sentiment and group.

A response whose comment carries a current analysis (``Response.current_analysis``: the analysis of the
comment as it is now) counts in the same segments as its score (``segment_keys``), in the same day
items, with these counters, each per score group (``promoter``, ``passive``, ``detractor``):

- ``a#<group>``: analysed comments;
- ``s#<sentiment>#<group>``: of them, with that sentiment;
- ``t#<theme>#<sentiment>#<group>``: of them, mentioning that theme, with that sentiment.

"The share of detractors mentioning delivery" is the sum over sentiments of ``t#delivery#*#detractor``
over ``a#detractor``. A change contributes ``new - old`` like the score aggregates: a re-analysis (new
version, backfill) moves the comment from its old themes to its new ones, so each comment counts once
per version, and the score service's chunks write them exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date

from npsloop.domain.aggregates import AggregateKey, CounterDelta, segment_keys
from npsloop.domain.responses import Response
from npsloop.domain.view_filters import ScoreGroup, group_of

GROUPS = tuple(g.value for g in ScoreGroup)


@dataclass
class ThemeDelta(CounterDelta):
    """What a batch adds to one theme day: counters named as the module says."""


def _signed(response: Response, sign: int) -> ThemeDelta | None:
    analysis = response.current_analysis
    if analysis is None:
        return None
    group = group_of(response.survey_type, response.score).value
    counts = {f"a#{group}": sign, f"s#{analysis.sentiment}#{group}": sign}
    for theme in dict.fromkeys(analysis.themes):
        counts[f"t#{theme}#{analysis.sentiment}#{group}"] = sign
    return ThemeDelta(counts)


def theme_contributions(
    old: Response | None, new: Response | None, dimensions: Iterable[str]
) -> dict[AggregateKey, ThemeDelta]:
    """What one change does to the theme aggregates: ``new - old``, cancelled-out keys left out."""
    dims = tuple(dimensions)
    total: dict[AggregateKey, ThemeDelta] = {}
    for response, sign in ((old, -1), (new, +1)):
        delta = _signed(response, sign) if response is not None else None
        if response is None or delta is None:
            continue
        day = response.created_at.astimezone(UTC).date()
        for key in segment_keys(response.program_id, response.context, day, dims):
            total.setdefault(key, ThemeDelta()).add(delta)
    return {key: delta for key, delta in total.items() if not delta.is_zero}


@dataclass(frozen=True)
class ThemeDay:
    """One stored theme aggregate as read back (counters as named in the module docstring)."""

    dimension: str
    value: str
    day: date
    counts: Mapping[str, int]


@dataclass(frozen=True)
class ThemeShare:
    theme: str
    count: int  # analysed comments of the group mentioning the theme
    share: float  # of the group's analysed comments, 0..1
    negative: int  # of them, negative or mixed


@dataclass(frozen=True)
class GroupThemes:
    group: str
    analysed: int
    themes: tuple[ThemeShare, ...]  # most mentioned first


def sum_theme_days(days: Iterable[ThemeDay]) -> dict[str, int]:
    total: dict[str, int] = {}
    for day in days:
        for name, k in day.counts.items():
            total[name] = total.get(name, 0) + k
    return total


def group_themes(counts: Mapping[str, int], group: str, top: int = 5) -> GroupThemes:
    """The group's most mentioned themes, with their shares of its analysed comments."""
    analysed = counts.get(f"a#{group}", 0)
    per_theme: dict[str, list[int]] = {}
    for name, k in counts.items():
        parts = name.split("#")
        if len(parts) == 4 and parts[0] == "t" and parts[3] == group and k:
            entry = per_theme.setdefault(parts[1], [0, 0])
            entry[0] += k
            if parts[2] in ("negative", "mixed"):
                entry[1] += k
    ranked = sorted(per_theme.items(), key=lambda item: (-item[1][0], item[0]))[:top]
    return GroupThemes(
        group,
        analysed,
        tuple(ThemeShare(theme, n, (n / analysed) if analysed else 0.0, neg) for theme, (n, neg) in ranked),
    )
