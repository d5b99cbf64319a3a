"""The built-in model: linear classifiers over `features.featurize`, inferred with numpy only.

The weights (`data/model.npz`, `data/model.json`) are trained offline by tools/train_text_model.py with
scikit-learn; the runtime never imports it. Sentiment is a multinomial logistic regression (balanced classes);
each theme a one-vs-rest logistic regression with its own threshold tuned on the training split's
cross-validation, at most three themes per comment (the most probable ones). How much each feature block counts
(the score and the cues more than any one embedding dimension) is folded into the exported weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from npsloop.text.features import featurize
from npsloop.text.taxonomy import MAX_THEMES

SENTIMENTS = ("positive", "negative", "neutral", "mixed")


@dataclass(frozen=True)
class Prediction:
    sentiment: str
    themes: tuple[str, ...]


@dataclass(frozen=True)
class BuiltinModel:
    version: str
    taxonomy_version: str
    themes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    sentiment_w: np.ndarray
    sentiment_b: np.ndarray
    theme_w: np.ndarray
    theme_b: np.ndarray
    theme_threshold: np.ndarray

    def predict_features(self, x: np.ndarray) -> list[Prediction]:
        z = (x - self.mean) / self.scale
        sentiment = np.argmax(z @ self.sentiment_w.T + self.sentiment_b, axis=1)
        theme_p = 1.0 / (1.0 + np.exp(-(z @ self.theme_w.T + self.theme_b)))
        out = []
        for row, s in zip(theme_p, sentiment, strict=True):
            ranked = [int(i) for i in np.argsort(-row) if row[i] >= self.theme_threshold[i]][:MAX_THEMES]
            out.append(Prediction(SENTIMENTS[int(s)], tuple(self.themes[i] for i in ranked)))
        return out

    def predict(self, masked_texts: list[str], surveys: list[str], scores: list[int]) -> list[Prediction]:
        return self.predict_features(featurize(masked_texts, surveys, scores, self.themes))


def _data_file(name: str):
    return resources.files("npsloop.text").joinpath("data", name)


@cache
def builtin_model() -> BuiltinModel:
    meta = json.loads(_data_file("model.json").read_text(encoding="utf-8"))
    with _data_file("model.npz").open("rb") as f, np.load(f) as w:
        arrays = {k: w[k] for k in w.files}
    return BuiltinModel(
        version=meta["model_version"],
        taxonomy_version=meta["taxonomy_version"],
        themes=tuple(meta["themes"]),
        **arrays,
    )
