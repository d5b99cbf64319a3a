"""The labelled comments (data/text/written/): the built file is the source's, big enough, with a dev split of
individually written comments, and every planted personal-data value is valid and found verbatim."""

import importlib.util
import json
from collections import Counter
from pathlib import Path

from stdnum import iban, luhn
from stdnum.pl import pesel

ROOT = Path(__file__).resolve().parents[2]


def _build():
    spec = importlib.util.spec_from_file_location("build_written", ROOT / "tools" / "text_data" / "build_written.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build()


def test_written_jsonl_is_built_from_the_source_files():
    built = _build()
    committed = [json.loads(x) for x in (ROOT / "data" / "text" / "written.jsonl").read_text("utf-8").splitlines()]
    assert built == committed, "run tools/text_data/build_written.py after editing data/text/written/*.txt"


def test_enough_comments_per_language_and_a_30_percent_dev_split():
    rows = _build()
    count = Counter((r["lang"], r["split"]) for r in rows)
    assert count["pl", "train"] + count["pl", "dev"] >= 600
    assert count["en", "train"] + count["en", "dev"] >= 450
    for lang in ("pl", "en"):
        share = count[lang, "dev"] / (count[lang, "train"] + count[lang, "dev"])
        assert 0.28 <= share <= 0.32
    assert {r["sentiment"] for r in rows if r["split"] == "dev"} == {"positive", "negative", "neutral", "mixed"}


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
