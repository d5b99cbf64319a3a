"""Answers as the staff pages list them: where one sits in the answer index, text search, CSV cells.

An answer's *position* is ``<created_at, UTC, ms>#<invitation id>``: the sort key of both answer
indexes (docs/data-model.md), unique, and ordered by time. A list pages by position (the next page
holds the answers strictly before the last one shown), so one position resumes any merge of stores.

Text search ignores case, and ignores diacritics unless the query has some: "zolw" finds "Żółw",
"żółw" finds "żółw" but not "zolw". ``highlight`` cuts a comment into plain and matched parts for
the page (the template escapes each part).
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

_NO_DECOMPOSITION = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d"})
CSV_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def position_of(created_at: datetime, invitation_id: str) -> str:
    instant = created_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return f"{instant}#{invitation_id}"


def _fold_char(char: str, strip: bool) -> str:
    folded = char.casefold()
    if not strip:
        return folded
    folded = folded.translate(_NO_DECOMPOSITION)
    return "".join(c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Case and diacritics gone: what a search without diacritics compares."""
    return "".join(_fold_char(c, True) for c in unicodedata.normalize("NFC", text))


def _strips(query: str) -> bool:
    """A query without diacritics matches with or without them; one with them matches them exactly."""
    return fold(query) == query.casefold()


def _folded_with_map(text: str, strip: bool) -> tuple[str, list[int]]:
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = _fold_char(char, strip)
        out.append(piece)
        origin.extend([index] * len(piece))
    return "".join(out), origin


def matches(comment: str | None, query: str | None) -> bool:
    if not query:
        return True
    if not comment:
        return False
    strip = _strips(query)
    needle = fold(query) if strip else query.casefold()
    return needle in _folded_with_map(unicodedata.normalize("NFC", comment), strip)[0]


def highlight(comment: str, query: str | None) -> list[tuple[str, bool]]:
    """The comment in parts, each ``(text, matched)``; without a query, one plain part."""
    if not query:
        return [(comment, False)]
    text = unicodedata.normalize("NFC", comment)
    strip = _strips(query)
    needle = fold(query) if strip else query.casefold()
    haystack, origin = _folded_with_map(text, strip)
    if not needle:
        return [(text, False)]
    parts: list[tuple[str, bool]] = []
    cursor = 0
    start = haystack.find(needle)
    while start >= 0:
        first, last = origin[start], origin[start + len(needle) - 1] + 1
        if first >= cursor:
            if first > cursor:
                parts.append((text[cursor:first], False))
            parts.append((text[first:last], True))
            cursor = last
        start = haystack.find(needle, start + len(needle))
    if cursor < len(text):
        parts.append((text[cursor:], False))
    return parts


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ tab or CR would start a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(CSV_DANGEROUS_START) else text
