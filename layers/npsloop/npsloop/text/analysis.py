"""Comment analysis: mask first, then let the provider judge the masked text (issue 12 §1, §2).

`analyse` is the one code path of the evaluate command, the backfill and the deployed consumer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from npsloop.text.masking import PiiMatch, mask
from npsloop.text.providers import AnalysisProvider, Language, MaskedComment, Survey


@dataclass(frozen=True)
class Comment:
    id: str
    lang: Language
    text: str
    survey: Survey
    score: int


@dataclass(frozen=True)
class CommentAnalysis:
    id: str
    sentiment: str
    themes: tuple[str, ...]
    masked_text: str
    pii: tuple[PiiMatch, ...]
    provider: str
    model_version: str
    taxonomy_version: str


def analyse(comments: Sequence[Comment], provider: AnalysisProvider) -> list[CommentAnalysis]:
    masked = [mask(c.text) for c in comments]
    results = provider.analyse(
        [MaskedComment(c.id, c.lang, m.text, c.survey, c.score) for c, m in zip(comments, masked, strict=True)]
    )
    return [
        CommentAnalysis(c.id, r.sentiment, r.themes, m.text, m.pii, r.provider, r.model_version, r.taxonomy_version)
        for c, m, r in zip(comments, masked, results, strict=True)
    ]
