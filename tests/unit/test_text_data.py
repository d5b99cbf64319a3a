"""The labelled comments (data/text/written/): the built file is the source's, big enough, with a dev split of
individually written comments that comments written later to train only leave as it was, and every planted
personal-data value is valid and found verbatim."""

import importlib.util
import json
from collections import Counter
from pathlib import Path

from stdnum import iban, luhn
from stdnum.pl import pesel

ROOT = Path(__file__).resolve().parents[2]


def _module():
    spec = importlib.util.spec_from_file_location("build_written", ROOT / "tools" / "text_data" / "build_written.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build():
    return _module().build()


def _build_without_train_only(tmp_path):
    """The comments as they were before any `#train-only` section was appended."""
    module = _module()
    for lang in ("pl", "en"):
        lines = (module.SOURCE / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
        cut = lines.index(module.TRAIN_ONLY) if module.TRAIN_ONLY in lines else len(lines)
        (tmp_path / f"{lang}.txt").write_text("\n".join(lines[:cut]) + "\n", encoding="utf-8")
    module.SOURCE = tmp_path
    return module.build()


def test_written_jsonl_is_built_from_the_source_files():
    built = _build()
    committed = [json.loads(x) for x in (ROOT / "data" / "text" / "written.jsonl").read_text("utf-8").splitlines()]
    assert built == committed, "run tools/text_data/build_written.py after editing data/text/written/*.txt"


def test_enough_comments_per_language_and_a_30_percent_dev_split(tmp_path):
    rows = _build()
    count = Counter((r["lang"], r["split"]) for r in rows)
    assert count["pl", "train"] + count["pl", "dev"] >= 600
    assert count["en", "train"] + count["en", "dev"] >= 450
    assert {r["sentiment"] for r in rows if r["split"] == "dev"} == {"positive", "negative", "neutral", "mixed"}
    before = Counter((r["lang"], r["split"]) for r in _build_without_train_only(tmp_path))
    for lang in ("pl", "en"):
        share = before[lang, "dev"] / (before[lang, "train"] + before[lang, "dev"])
        assert 0.28 <= share <= 0.32


def test_comments_written_to_train_only_leave_the_dev_split_the_rows_it_was(tmp_path):
    rows = _build()
    before = _build_without_train_only(tmp_path)
    assert len(rows) > len(before)  # there is a train-only section
    assert [r for r in rows if r["split"] == "dev"] == [r for r in before if r["split"] == "dev"]
    assert all(r["split"] == "train" for r in rows[len(before) :] if r["lang"] == "en")


def test_planted_values_are_valid_and_verbatim():
    rows = _build()
    types = Counter()
    for r in rows:
        for item in r["pii"] + r["keep"]:
            assert item["text"] in r["text"]
        for item in r["pii"]:
            types[item["type"]] += 1
            compact = item["text"].replace(" ", "").replace("-", "")
            if item["type"] == "pesel":
                assert pesel.is_valid(compact)
            if item["type"] == "iban":
                assert iban.is_valid(compact if compact[:2].isalpha() else "PL" + compact)
            if item["type"] == "card_number":
                assert luhn.is_valid(compact)
    assert set(types) == {"email", "phone", "person_name", "pesel", "iban", "address", "card_number"}
