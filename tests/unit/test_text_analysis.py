"""The comment-analysis command and model (issue 12 §2, §4): the evaluate interface, the shipped weights'
recorded dev metrics, no scikit-learn at run time, and the Comprehend provider."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.stub import Stubber

from npsloop.text.__main__ import InputError, labelled_report, main, read_comments

ROOT = Path(__file__).resolve().parents[2]
PII_TYPES = {"email", "phone", "person_name", "pesel", "iban", "address", "card_number"}
THEMES = {"delivery", "product_quality", "price", "staff", "waiting_time", "availability", "payment",
          "website_app", "returns_refunds", "communication", "store_environment"}  # fmt: skip


def test_evaluate_writes_one_line_per_comment_in_the_specified_shape(tmp_path):
    # GIVEN three comments as the issue specifies them
    source = tmp_path / "in.jsonl"
    lines = [
        {"id": "a", "lang": "pl", "text": "Kurier spóźnił się 3 dni, tel. 601 234 567", "survey": "nps", "score": 3},
        {"id": "b", "lang": "en", "text": "Lovely staff, ask for John Smith", "survey": "csat", "score": 5},
        {"id": "c", "lang": "en", "text": "ok", "survey": "ces", "score": 4},
    ]
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    # WHEN the command runs
    assert main(["evaluate", str(source), str(target)]) == 0
    # THEN each output line has exactly the specified fields, in input order
    out = [json.loads(x) for x in target.read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c"]
    for o in out:
        assert set(o) == {"id", "sentiment", "themes", "masked_text", "pii"}
        assert o["sentiment"] in {"positive", "negative", "neutral", "mixed"}
        assert set(o["themes"]) <= THEMES and len(o["themes"]) <= 3
        assert all(set(p) == {"type", "text"} and p["type"] in PII_TYPES for p in o["pii"])
    assert out[0]["pii"] == [{"type": "phone", "text": "601 234 567"}]
    assert "601 234 567" not in out[0]["masked_text"]
    assert {"type": "person_name", "text": "John Smith"} in out[1]["pii"]


def test_a_bad_input_line_is_named_and_nothing_is_written(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"id": "a", "lang": "pl", "text": "ok", "survey": "nps", "score": 9}\n'
        '{"id": "b", "lang": "de", "text": "gut", "survey": "nps", "score": 9}\n'
        '{"id": "c", "lang": "en", "text": "ok", "survey": "csat", "score": 9}\n'
        "not json\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        read_comments(source)
    message = str(info.value)
    assert "line 2: lang" in message and "line 3" in message and "csat scale 1-5" in message
    assert "line 4: not JSON" in message
    target = tmp_path / "out.jsonl"
    assert main(["evaluate", str(source), str(target)]) == 2
    assert not target.exists()


def test_the_shipped_weights_reproduce_the_recorded_dev_metrics():
    recorded = json.loads((ROOT / "data" / "text" / "dev_metrics.json").read_text(encoding="utf-8"))
    measured = labelled_report(ROOT / "data" / "text" / "written.jsonl", "dev")
    for lang in ("pl", "en"):
        got, want = measured[lang], recorded[lang]
        assert got["sentiment"]["macro_f1"] == pytest.approx(want["sentiment"]["macro_f1"], abs=0.005)
        assert got["themes"]["micro_f1"] == pytest.approx(want["themes"]["micro_f1"], abs=0.005)
        assert measured[lang]["masking"] == recorded[lang]["masking"]


def test_the_analysis_path_does_not_import_scikit_learn():
    code = (
        "import sys, json\n"
        "from npsloop.text.analysis import Comment, analyse\n"
        "from npsloop.text.providers import BuiltinProvider\n"
        "analyse([Comment('a', 'pl', 'Super obsługa', 'nps', 10)], BuiltinProvider())\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy', 'pandas'))))\n"
    )
    env_path = str(ROOT / "layers" / "npsloop")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": env_path}
    )
    assert json.loads(out.stdout) == []


def test_comprehend_judges_english_sentiment_and_polish_keeps_the_builtin_model():
    import boto3

    from npsloop.adapters.comprehend_sentiment import ComprehendSentiment
    from npsloop.text.providers import BuiltinProvider, ComprehendProvider, MaskedComment

    client = boto3.client("comprehend", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response(
            "batch_detect_sentiment",
            {
                "ResultList": [{"Index": 0, "Sentiment": "MIXED", "SentimentScore": {"Mixed": 0.9}}],
                "ErrorList": [{"Index": 1, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "x"}],
            },
            {"TextList": ["Great staff but the queue was awful", "fine"], "LanguageCode": "en"},
        )
        comments = [
            MaskedComment("1", "en", "Great staff but the queue was awful", "nps", 7),
            MaskedComment("2", "pl", "Kurier się spóźnił", "nps", 2),
            MaskedComment("3", "en", "fine", "nps", 8),
        ]
        builtin = BuiltinProvider()
        results = ComprehendProvider(ComprehendSentiment(client), builtin).analyse(comments)
        stub.assert_no_pending_responses()
    own = builtin.analyse(comments)
    assert results[0].sentiment == "mixed" and results[0].provider == "comprehend"
    assert results[0].model_version.startswith("comprehend+")
    assert results[1] == own[1]  # Polish: never sent to Comprehend
    assert results[2].sentiment == own[2].sentiment  # Comprehend's error for that text: the built-in answer
