"""Comment analysis from the command line (issue 12 §4).

    python -m npsloop.text evaluate IN.jsonl OUT.jsonl
        IN:  {"id": str, "lang": "pl"|"en", "text": str, "survey": "nps"|"csat"|"ces", "score": int} per line
        OUT: {"id", "sentiment", "themes": [str], "masked_text", "pii": [{"type", "text"}]} per line, same order
    python -m npsloop.text report [--data data/text/written.jsonl] [--split dev] [--write FILE]
        the labelled split's metrics per language (sentiment, themes, masking), optionally written as JSON,
        and the training's cross-validation figures (data/text/train_cv.json, written by tools/train_text_model.py)
    python -m npsloop.text backfill --table TABLE [--program ID] [--checkpoint FILE]
        re-analyse stored comments whose analysis is of another version (npsloop/text/backfill.py)

Both run `npsloop.text.analysis.analyse` with the built-in provider: the code path of the deployed function.
A bad input line stops the run before anything is written, naming the line and the field.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from npsloop.text.analysis import Comment, CommentAnalysis, analyse
from npsloop.text.features import SCALES

BATCH = 64


class InputLine(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    lang: Literal["pl", "en"]
    text: Annotated[str, Field(max_length=20000)]
    survey: Literal["nps", "csat", "ces"]
    score: int

    @model_validator(mode="after")
    def _on_scale(self) -> InputLine:
        lo, hi = SCALES[self.survey]
        if not lo <= self.score <= hi:
            raise ValueError(f"score {self.score} is outside the {self.survey} scale {lo}-{hi}")
        return self


class InputError(ValueError):
    """Lines of the input file that are not comments as the command expects them; the message lists each."""


def read_comments(path: Path) -> list[Comment]:
    comments: list[Comment] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = InputLine.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc.msg})")
            continue
        except ValidationError as exc:
            fields = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors())
            problems.append(f"line {number}: {fields}")
            continue
        if item.id in seen:
            problems.append(f"line {number}: id {item.id!r} appears twice")
        seen.add(item.id)
        comments.append(Comment(item.id, item.lang, item.text, item.survey, item.score))
    if problems:
        raise InputError(f"{path}: {len(problems)} bad line(s), nothing written:\n  " + "\n  ".join(problems))
    return comments


def output_line(result: CommentAnalysis) -> dict:
    return {
        "id": result.id,
        "sentiment": result.sentiment,
        "themes": list(result.themes),
        "masked_text": result.masked_text,
        "pii": [{"type": m.type, "text": m.text} for m in result.pii],
    }


def run_analysis(comments: list[Comment]) -> list[CommentAnalysis]:
    from npsloop.text.providers import BuiltinProvider

    provider = BuiltinProvider()
    results: list[CommentAnalysis] = []
    for start in range(0, len(comments), BATCH):
        results += analyse(comments[start : start + BATCH], provider)
    return results


def evaluate(source: Path, target: Path) -> int:
    comments = read_comments(source)
    results = run_analysis(comments)
    with target.open("w", encoding="utf-8") as f:
        for result in results:
            f.write(json.dumps(output_line(result), ensure_ascii=False) + "\n")
    return len(results)


def labelled_report(data: Path, split: str | None) -> dict:
    from npsloop.text.metrics import report

    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if split is None or r.get("split") == split]
    results = run_analysis([Comment(r["id"], r["lang"], r["text"], r["survey"], r["score"]) for r in rows])
    return report(rows, results)


def format_report(metrics: dict) -> str:
    lines = []
    for lang, m in metrics.items():
        s, t = m["sentiment"], m["themes"]
        lines.append(f"[{lang}] {m['comments']} comments")
        lines.append(f"  sentiment macro-F1 {s['macro_f1']:.3f}   themes micro-F1 {t['micro_f1']:.3f}")
        lines.append(
            "  confusion (rows: labelled, columns: predicted)  " + " ".join(f"{c[:3]:>4}" for c in s["confusion"])
        )
        for label, row in s["confusion"].items():
            lines.append(f"    {label:<9}" + "".join(f"{v:>5}" for v in row.values()))
        recall = ", ".join(f"{k} {v['recall']:.2f} (n={v['n']})" for k, v in m["masking"]["recall"].items())
        kept = ", ".join(f"{k} {v['rate']:.2f} (n={v['n']})" for k, v in m["masking"]["wrongly_masked"].items())
        lines.append(f"  masking recall: {recall}")
        lines.append(f"  wrongly masked: {kept}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m npsloop.text", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="analyse IN.jsonl into OUT.jsonl")
    ev.add_argument("source", type=Path)
    ev.add_argument("target", type=Path)
    rep = sub.add_parser("report", help="metrics on a labelled split")
    rep.add_argument("--data", type=Path, default=Path("data/text/written.jsonl"))
    rep.add_argument("--split", default="dev", help="train | dev | all")
    rep.add_argument("--write", type=Path, help="also write the metrics as JSON to this file")
    back = sub.add_parser("backfill", help="re-analyse stored comments whose analysis version differs")
    back.add_argument("--table", required=True, help="the stack's DynamoDB table name")
    back.add_argument("--program", help="only this program's responses")
    back.add_argument("--checkpoint", type=Path, default=Path(".backfill-checkpoint.json"), help="resume file")
    args = parser.parse_args(argv)
    if args.command == "backfill":
        from npsloop.text.backfill import run

        done = run(args.table, args.program, args.checkpoint)
        print(f"backfill done: {done.analysed} re-analysed, {done.current} already current, {done.refused} refused")
        return 0
    if args.command == "evaluate":
        try:
            n = evaluate(args.source, args.target)
        except InputError as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"analysed {n} comments into {args.target}", file=sys.stderr)
        return 0
    metrics = labelled_report(args.data, None if args.split == "all" else args.split)
    print(format_report(metrics))
    cv_file = args.data.parent / "train_cv.json"
    if cv_file.exists():
        cv = json.loads(cv_file.read_text(encoding="utf-8"))
        print(f"train split, 5-fold cross-validation ({cv['model_version']}):")
        for lang in ("pl", "en"):
            m = cv[lang]
            print(
                f"  [{lang}] {m['comments']} comments: sentiment macro-F1 {m['sentiment_macro_f1']:.3f}"
                f"   themes micro-F1 {m['themes_micro_f1']:.3f}"
            )
    if args.write:
        args.write.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
