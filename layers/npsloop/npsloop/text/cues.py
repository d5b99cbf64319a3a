"""Lexical cues next to the sentence embeddings (data/cues.toml): polarity words with their negation, the turn
of a mixed comment, irony markers, and the words that name each theme.

Counted per clause of the folded text (lower case, no Polish diacritics), so "bez problemu" and "nie polecam"
flip, and "a praised clause and a criticised one" shows as such even where the whole comment's embedding averages
them out. Pure Python over a vendored word list, built once per process.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

_WORD = re.compile(r"[a-z0-9'’\-]+|\[[a-z_]+\]")


def fold(text: str) -> str:
    """Lower case without Polish diacritics, as customers often type it (Świetna -> swietna)."""
    text = text.lower().replace("ł", "l").replace("’", "'")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _pattern(entries: list[str]) -> re.Pattern[str]:
    parts = []
    for entry in sorted(entries, key=len, reverse=True):
        whole = entry.endswith("=")
        word = re.escape(entry.rstrip("=")).replace(r"\ ", r"\s+")
        parts.append(word + (r"(?![a-z0-9])" if whole else ""))
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(parts) + ")")


@dataclass(frozen=True)
class Cues:
    positive: re.Pattern[str]
    negative: re.Pattern[str]
    negators: frozenset[str]
    negator_prefixes: tuple[str, ...]
    unflipped: re.Pattern[str]
    contrast: re.Pattern[str]
    irony: re.Pattern[str]
    themes: tuple[tuple[str, re.Pattern[str]], ...]


@cache
def cues() -> Cues:
    raw = tomllib.loads(resources.files("npsloop.text").joinpath("data", "cues.toml").read_text(encoding="utf-8"))
    polarity, themes = raw["polarity"], raw["themes"]
    return Cues(
        positive=_pattern(polarity["positive"]),
        negative=_pattern(polarity["negative"]),
        negators=frozenset(n for n in polarity["negators"] if not n.endswith("*")),
        negator_prefixes=tuple(n[:-1] for n in polarity["negators"] if n.endswith("*")),
        unflipped=_pattern(polarity["unflipped"]),
        contrast=_pattern(polarity["contrast"]),
        irony=_pattern(polarity["irony"]),
        themes=tuple((theme, _pattern(words)) for theme, words in themes.items()),
    )


def _negated(c: Cues, clause: str, start: int) -> bool:
    before = _WORD.findall(clause[:start])[-3:]
    return any(w in c.negators or w.startswith(c.negator_prefixes) or w.endswith("n't") for w in before)


def _polarity(c: Cues, clause: str) -> tuple[int, int]:
    """(positive, negative) cues of one clause, a negated cue counted for the other side.

    Where cues overlap the longest one counts ("nie dziala" over "dziala", "would use again" over "again",
    "hassle-free" over "hassle"); at equal length the negative one. A cue of the `unflipped` list keeps its side
    after a negator ("never again", "won't be ordering again").
    """
    found = [(m, sign) for sign, pattern in ((-1, c.negative), (1, c.positive)) for m in pattern.finditer(clause)]
    found.sort(key=lambda f: (-(f[0].end() - f[0].start()), f[1], f[0].start()))
    pos = neg = 0
    taken: list[tuple[int, int]] = []
    for m, sign in found:
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        taken.append(m.span())
        keeps = m.group().startswith("nie ") or c.unflipped.fullmatch(m.group())
        flipped = -sign if _negated(c, clause, m.start()) and not keeps else sign
        pos, neg = (pos + 1, neg) if flipped > 0 else (pos, neg + 1)
    return pos, neg


N_POLARITY = 12


def cue_features(text: str, clauses: list[str], themes: tuple[str, ...]) -> np.ndarray:
    """[polarity and shape of the comment (N_POLARITY) | one 0/1 per theme of `themes`: a word naming it]."""
    c = cues()
    folded = fold(text)
    per_clause = [_polarity(c, fold(part)) for part in clauses]
    pos = sum(p for p, _ in per_clause)
    neg = sum(n for _, n in per_clause)
    pos_clauses = sum(p > n for p, n in per_clause)
    neg_clauses = sum(n > p for p, n in per_clause)
    words = len(_WORD.findall(folded))
    polarity = [
        math.log1p(pos),
        math.log1p(neg),
        float(pos > 0 and neg > 0),
        float(pos_clauses > 0 and neg_clauses > 0),
        (pos - neg) / (pos + neg + 1),
        float(bool(c.contrast.search(folded))),
        float(bool(c.irony.search(folded))),
        float(bool(c.irony.search(folded)) and neg > 0),
        float("!" in text),
        float("?" in text),
        math.log1p(words),
        float(words <= 3),
    ]
    wanted = dict(c.themes)
    named = [float(bool(wanted[t].search(folded))) if t in wanted else 0.0 for t in themes]
    return np.array(polarity + named, dtype=np.float32)
