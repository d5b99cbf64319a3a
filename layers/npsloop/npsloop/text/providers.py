"""Analysis providers: what turns a masked comment into a sentiment and its themes.

A provider is anything with `name` and `analyse(comments) -> results` (`AnalysisProvider`). It only ever
receives MASKED text (`npsloop.text.analysis` masks first). Three ship:
- `BuiltinProvider`: the offline default (USE v3 embeddings + linear classifiers, `model.py`), Polish and English.
- `ComprehendProvider`: Amazon Comprehend's sentiment for English, the built-in model's themes and its Polish.
- your own: see docs/text-analysis.md "Plugging in another provider" (e.g. an LLM on Bedrock).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from npsloop.ports.text import SentimentDetector
from npsloop.text.model import SENTIMENTS, BuiltinModel, builtin_model
from npsloop.text.taxonomy import Taxonomy, load_taxonomy

Language = Literal["pl", "en"]
Survey = Literal["nps", "csat", "ces"]


class ProviderMismatch(RuntimeError):
    """The provider's model was trained on another theme taxonomy than the configured one: retrain it."""


@dataclass(frozen=True)
class MaskedComment:
    id: str
    lang: Language
    text: str  # masked: never the customer's own words with their personal data
    survey: Survey
    score: int


@dataclass(frozen=True)
class ProviderResult:
    id: str
    sentiment: str  # positive | negative | neutral | mixed
    themes: tuple[str, ...]  # 0..3 theme ids of the taxonomy
    provider: str
    model_version: str
    taxonomy_version: str


class AnalysisProvider(Protocol):
    name: str

    def analyse(self, comments: Sequence[MaskedComment]) -> list[ProviderResult]:
        """One result per comment, in order."""
        ...


class BuiltinProvider:
    name = "builtin"

    def __init__(self, model: BuiltinModel | None = None, taxonomy: Taxonomy | None = None) -> None:
        self._model = model or builtin_model()
        taxonomy = taxonomy or load_taxonomy()
        if self._model.taxonomy_version != taxonomy.version or set(self._model.themes) != set(taxonomy.ids):
            raise ProviderMismatch(
                f"the built-in model knows themes of taxonomy {self._model.taxonomy_version!r}, "
                f"themes.toml is {taxonomy.version!r}: retrain it (tools/train_text_model.py)"
            )

    @property
    def model_version(self) -> str:
        return self._model.version

    def analyse(self, comments: Sequence[MaskedComment]) -> list[ProviderResult]:
        predictions = self._model.predict(
            [c.text for c in comments], [c.survey for c in comments], [c.score for c in comments]
        )
        return [
            ProviderResult(c.id, p.sentiment, p.themes, self.name, self._model.version, self._model.taxonomy_version)
            for c, p in zip(comments, predictions, strict=True)
        ]


class ComprehendProvider:
    """English sentiment from Amazon Comprehend; themes (and Polish, which Comprehend lacks) from the built-in
    model. A text Comprehend could not judge keeps the built-in sentiment."""

    name = "comprehend"

    def __init__(self, detector: SentimentDetector, fallback: BuiltinProvider | None = None) -> None:
        self._detector = detector
        self._builtin = fallback or BuiltinProvider()

    def analyse(self, comments: Sequence[MaskedComment]) -> list[ProviderResult]:
        results = self._builtin.analyse(comments)
        english = [i for i, c in enumerate(comments) if c.lang == "en"]
        if not english:
            return results
        answers = self._detector.detect([comments[i].text for i in english], "en")
        version = f"comprehend+{self._builtin.model_version}"
        for i, sentiment in zip(english, answers, strict=True):
            if sentiment in SENTIMENTS:
                r = results[i]
                results[i] = ProviderResult(r.id, sentiment, r.themes, self.name, version, r.taxonomy_version)
        return results
