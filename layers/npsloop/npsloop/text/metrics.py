"""Quality measures of an analysis against labelled comments (numpy only): sentiment macro-F1 and its
confusion matrix, themes micro-F1, masking recall per type and how often must-keep values were masked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from npsloop.text.analysis import CommentAnalysis
from npsloop.text.model import SENTIMENTS


def _f1(tp: int, fp: int, fn: int) -> float:
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def sentiment_scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    matrix = {t: dict.fromkeys(SENTIMENTS, 0) for t in SENTIMENTS}
    for t, p in zip(truth, predicted, strict=True):
        matrix[t][p] += 1
    per_class = {}
    for s in SENTIMENTS:
        tp = matrix[s][s]
        fp = sum(matrix[t][s] for t in SENTIMENTS if t != s)
        fn = sum(matrix[s][p] for p in SENTIMENTS if p != s)
        per_class[s] = _f1(tp, fp, fn)
    present = [s for s in SENTIMENTS if any(matrix[s].values()) or any(matrix[t][s] for t in SENTIMENTS)]
    macro = sum(per_class[s] for s in present) / len(present) if present else 0.0
    return {"macro_f1": round(macro, 4), "f1": {s: round(v, 4) for s, v in per_class.items()}, "confusion": matrix}


def theme_scores(truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, Any]:
    tp = fp = fn = 0
    for t, p in zip(truth, predicted, strict=True):
        tp += len(set(t) & set(p))
        fp += len(set(p) - set(t))
        fn += len(set(t) - set(p))
    return {"micro_f1": round(_f1(tp, fp, fn), 4), "tp": tp, "fp": fp, "fn": fn}


def _covered(text: str, start: int, end: int, result: CommentAnalysis) -> bool:
    return any(m.start <= start and end <= m.end for m in result.pii) or all(
        any(m.start <= i < m.end for m in result.pii) for i in range(start, end)
    )


def masking_scores(rows: Sequence[dict[str, Any]], results: Sequence[CommentAnalysis]) -> dict[str, Any]:
    """Recall per type: a planted value counts as found when every character of it was masked. Must-keep
    values (order numbers, prices, dates, till numbers) count as wrongly masked when any character was."""
    found: dict[str, list[int]] = {}
    kept: dict[str, list[int]] = {}
    for row, result in zip(rows, results, strict=True):
        text = row["text"]
        for item in row.get("pii", []):
            start = text.find(item["text"])
            hit = start >= 0 and _covered(text, start, start + len(item["text"]), result)
            found.setdefault(item["type"], []).append(int(hit))
        for item in row.get("keep", []):
            start = text.find(item["text"])
            masked = start >= 0 and any(m.start < start + len(item["text"]) and start < m.end for m in result.pii)
            kept.setdefault(item["type"], []).append(int(masked))
    return {
        "recall": {t: {"n": len(v), "recall": round(sum(v) / len(v), 4)} for t, v in sorted(found.items())},
        "wrongly_masked": {t: {"n": len(v), "rate": round(sum(v) / len(v), 4)} for t, v in sorted(kept.items())},
    }


def report(rows: Sequence[dict[str, Any]], results: Sequence[CommentAnalysis]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lang in ("pl", "en", "all"):
        pairs = [(r, a) for r, a in zip(rows, results, strict=True) if lang in ("all", r["lang"])]
        if not pairs:
            continue
        rs, ans = [p[0] for p in pairs], [p[1] for p in pairs]
        out[lang] = {
            "comments": len(pairs),
            "sentiment": sentiment_scores([r["sentiment"] for r in rs], [a.sentiment for a in ans]),
            "themes": theme_scores([r["themes"] for r in rs], [a.themes for a in ans]),
            "masking": masking_scores(rs, ans),
        }
    return out
