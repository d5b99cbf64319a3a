"""What customers' comments are about, read from the theme aggregates (domain/themes.py).

``themes_of`` sums a segment's theme days over a range and gives each score group's top themes with
their shares; the score API adds it to each group, and ``top_detractor_themes`` is the demo summary's
"what detractors talk about" per program. Reads are one query per program x dimension x month (paged): they
grow with days x values, never with the number of comments.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from npsloop.domain.aggregates import OVERALL
from npsloop.domain.themes import GROUPS, GroupThemes, ThemeDay, group_themes, sum_theme_days
from npsloop.ports.scoring import ThemeReader

TOP = 5


def themes_of(days: Iterable[ThemeDay], top: int = TOP) -> dict[str, GroupThemes]:
    counts = sum_theme_days(days)
    return {group: group_themes(counts, group, top) for group in GROUPS}


def themes_json(themes: dict[str, GroupThemes]) -> dict[str, Any]:
    """The score API's ``themes`` of one group: per score group, analysed comments and top themes."""
    return {
        group: {
            "analysed": g.analysed,
            "top": [
                {"theme": t.theme, "count": t.count, "share": round(t.share, 4), "negative": t.negative}
                for t in g.themes
            ],
        }
        for group, g in themes.items()
    }


def top_detractor_themes(
    reader: ThemeReader, program_ids: Iterable[str], first: date, last: date, top: int = 3
) -> dict[str, GroupThemes]:
    """Per program, the themes its detractors mention most over ``first..last`` (from the theme aggregates)."""
    return {
        program_id: group_themes(sum_theme_days(reader.read_themes(program_id, OVERALL, first, last)), "detractor", top)
        for program_id in program_ids
    }


def describe(per_program: dict[str, GroupThemes]) -> list[str]:
    """Plain lines for a summary: ``program: delivery 42% (21), staff 18% (9) of 50 analysed detractor comments``."""
    lines = []
    for program_id, g in per_program.items():
        if not g.themes:
            lines.append(f"{program_id}: no analysed detractor comment")
            continue
        named = ", ".join(f"{t.theme} {t.share:.0%} ({t.count})" for t in g.themes)
        lines.append(f"{program_id}: {named} of {g.analysed} analysed detractor comments")
    return lines
