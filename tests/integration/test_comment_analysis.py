"""Comment analysis through the local stack: stream -> analyse -> response item -> theme aggregates.

A comment planted with personal data of every type: its masked text is all that leaves the response.
"""

from __future__ import annotations

import copy
import gzip
import json
import re
from datetime import UTC, datetime

from npsloop.adapters.dynamodb_answers import answer_index_keys
from npsloop.domain.responses import text_hash
from tests.fakes_cases import response_image
from tests.integration.test_alert_cases import Capture, write_response
from tests.integration.test_athena_queries import run_named_query
from tests.integration.test_score_handler import response_records
from tests.stream_records import redeliver

DAY = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PII = {
    "person_name": "Kasia",
    "phone": "+48 601 234 567",
    "email": "jan.kowalski@wp.pl",
    "pesel": "44051401359",
    "iban": "PL61 1090 1014 0000 0712 1981 2874",
    "card_number": "4111 1111 1111 1111",
    "address": "ul. Długa 5/12, 00-238 Warszawa",
}
COMMENT = (
    f"Kurier się spóźnił, a pani {PII['person_name']} na infolinii była niemiła. Oddzwońcie: {PII['phone']}, "
    f"{PII['email']}. PESEL {PII['pesel']}, zwrot na {PII['iban']}, karta {PII['card_number']}, "
    f"adres {PII['address']}."
)
UNMASKED = [*PII.values(), "44051401359", "601 234 567", "1090 1014", "4111"]


def theme_counts(table, dimension="all", value="all"):
    item = table.get(f"AGG#post-purchase-nps#{dimension}#2026-11", f"2026-11-20#{value}")  # the day item
    if item is None:
        return {}
    return {k: int(v["N"]) for k, v in item.items() if k[:2] in ("a#", "s#", "t#")}


def assert_no_pii(text: str, where: str) -> None:
    for value in UNMASKED:
        assert value not in text, f"{value!r} in {where}"


def test_a_comment_is_analysed_once_masked_and_counted_in_the_theme_aggregates(stack, table, capsys, caplog):
    topic = Capture(stack)  # the alerts topic's subscribers: a wider audience
    write_response(table, response_image("inv-pii-1", score=2, comment=COMMENT, store="KRK-02", created_at=DAY))
    stack.drain()

    item = table.get("INV#inv-pii-1", "RESPONSE")
    analysis = item["analysis"]["M"]
    masked = analysis["masked"]["S"]
    assert_no_pii(masked, "the stored analysis")
    assert "[pesel]" in masked and "[iban]" in masked and "[person_name]" in masked
    assert analysis["analysed_text_hash"]["S"] == text_hash(COMMENT)
    assert analysis["sentiment"]["S"] in {"negative", "mixed", "neutral", "positive"}
    themes = [t["S"] for t in analysis["themes"]["L"]]  # whatever the model names (unit tests pin the counting)
    assert item["comment"]["S"] == COMMENT  # the original stays for the case owner

    overall = theme_counts(table)
    assert overall["a#detractor"] == 1
    assert sum(v for k, v in overall.items() if k.startswith("t#")) == len(themes)
    assert theme_counts(table, "store", "KRK-02") == overall

    # The export: every row of this response (before and after its analysis) carries the masked text.
    s3 = stack.client("s3")
    bucket = stack.physical_id("ExportBucket")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []) if "responses/" in o["Key"]]
    exported = [
        json.loads(line)
        for k in keys
        for line in gzip.decompress(s3.get_object(Bucket=bucket, Key=k)["Body"].read()).decode().splitlines()
    ]
    assert len(exported) == 2 and all("[pesel]" in row["comment"] for row in exported)  # before and after analysis
    assert exported[-1]["comment"] == masked and exported[-1]["sentiment"] == analysis["sentiment"]["S"]
    assert exported[-1]["themes"] == themes
    assert_no_pii(json.dumps(exported, ensure_ascii=False), "the export")

    # The SNS alert (the detractor rule): masked.
    alerts = topic.alerts()
    assert "detractor" in [a["attributes"]["rule"] for a in alerts]  # and a theme rule's, if the model says so
    for alert in alerts:
        assert "[pesel]" in alert["body"]["comment"]
        assert_no_pii(json.dumps(alert, ensure_ascii=False), "the SNS alerts")

    # Every function's log: ids and counts, never the comment nor its personal data.
    logs = capsys.readouterr().out + caplog.text
    assert "batch analysed" in logs
    assert_no_pii(logs, "the functions' logs")


def test_replayed_batches_analyse_nothing_again_and_count_nothing_twice(stack, table):
    write_response(table, response_image("inv-pii-2", score=3, comment=COMMENT, created_at=DAY))
    stack.drain()
    before = table.get("INV#inv-pii-2", "RESPONSE")
    counted = theme_counts(table)
    records = response_records(stack)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]  # the answer, then its analysis

    for function in ("AnalyseFunction", "ScoreFunction"):
        replies = redeliver(stack, function, copy.deepcopy(records))
        assert all(reply["batchItemFailures"] == [] for reply in replies)
    stack.drain()

    assert table.get("INV#inv-pii-2", "RESPONSE") == before  # no second analysis written
    assert len(response_records(stack)) == 2  # so no further stream record either
    assert theme_counts(table) == counted


def test_the_themes_by_store_and_month_query_reads_the_exported_analysis(stack, table, tmp_path):
    comment = "Kurier spóźnił się trzy dni, paczka przyszła uszkodzona."
    write_response(table, response_image("inv-pii-3", score=2, comment=comment, store="KRK-02", created_at=DAY))
    stack.drain()
    themes = [t["S"] for t in table.get("INV#inv-pii-3", "RESPONSE")["analysis"]["M"]["themes"]["L"]]
    assert themes  # a plain delivery complaint: the model names its theme
    s3 = stack.client("s3")
    bucket = stack.physical_id("ExportBucket")
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        target = tmp_path / "export" / item["Key"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())

    none = tmp_path / "export" / "invitations" / "dt=2026-11-20" / "none.json.gz"  # the query reads no invitation
    none.parent.mkdir(parents=True)
    none.write_bytes(gzip.compress(b""))

    rows = run_named_query(tmp_path / "export", "ThemesByStoreAndMonthQuery")

    assert sorted(r["theme"] for r in rows) == sorted(themes)
    for row in rows:
        assert (row["store"], row["month"], int(row["mentions"]), int(row["from_detractors"])) == (
            "KRK-02",
            "2026-11",
            1,
            1,
        )
        assert int(row["analysed_comments"]) == 1


def test_a_backfill_to_a_new_version_moves_the_theme_counts_and_a_second_run_writes_nothing(stack, table, tmp_path):
    from npsloop.adapters.dynamodb_analysis import DynamoAnalyses
    from npsloop.text.backfill import backfill
    from tests.unit.test_analyse_service import CountingProvider

    for n in range(3):
        write_response(table, response_image(f"inv-bf-{n}", score=2, comment=f"{COMMENT} ({n})", created_at=DAY))
    stack.drain()
    store = DynamoAnalyses(table.name, stack.client("dynamodb"))
    v2 = CountingProvider("m2")  # says "negative, staff" of everything

    first = backfill(store, v2, version=("fake", "m2", "t1"), checkpoint=tmp_path / "a.json", page_size=2)
    stack.drain()
    second = backfill(store, v2, version=("fake", "m2", "t1"), checkpoint=tmp_path / "b.json", page_size=2)
    stack.drain()

    assert (first.analysed, second.analysed, second.current) == (3, 0, 3)
    counts = theme_counts(table)
    assert counts["a#detractor"] == 3  # each comment once, of its current version
    assert counts["t#staff#negative#detractor"] == 3
    assert sum(v for k, v in counts.items() if k.startswith("t#")) == 3  # version 1's themes left with it
    assert_no_pii(" ".join(v2.seen), "what the provider was given")


def analysed_image(number: int, score: int, themes, sentiment: str, clock, comment: str = "Kurier spóźniony"):
    image = response_image(f"inv-th{number:03d}", score=score, comment=f"{comment} {number}", store="KRK-02")
    image["created_at"] = image["updated_at"] = clock.now().isoformat()
    image |= answer_index_keys(image["program_id"], image["context"], clock.now(), image["invitation_id"])
    image["analysis"] = {
        "sentiment": sentiment,
        "themes": list(themes),
        "masked": f"{comment} {number}",
        "provider": "builtin",
        "model_version": "m1",
        "taxonomy_version": "t1",
        "analysed_text_hash": text_hash(f"{comment} {number}"),
    }
    return image


def seed_themes(stack, table, clock) -> None:
    for i in range(6):  # detractors: 4 delivery (2 also staff), 2 price
        themes = ("delivery", "staff") if i < 2 else ("delivery",) if i < 4 else ("price",)
        write_response(table, analysed_image(i, 2, themes, "negative", clock))
    for i in range(6, 10):
        write_response(table, analysed_image(i, 10, ("staff",), "positive", clock, comment="Miła obsługa"))
    stack.drain()


def test_the_dashboard_themes_card_shows_shares_and_drills_down_to_the_answers(stack, table, clock):
    from tests.web_client import WebClient

    seed_themes(stack, table, clock)
    browser = WebClient(stack.base_url)
    browser.sign_in("cx-lead", start="/auth/sign-in?next=/dashboard")

    page = browser.go("/dashboard?lang=en")
    card = page.body[page.body.index('aria-labelledby="themes-title"') :]
    card = card[: card.index("</section>")]

    assert page.status == 200
    assert "of 6 analysed comments" in card and "of 4 analysed comments" in card
    assert "67% (4)" in card and "33% (2)" in card and "100% (4)" in card
    link = re.search(r'href="(/answers\?[^"]*group=detractor&amp;theme=delivery)"', card)[1].replace("&amp;", "&")
    answers = browser.go(link)
    assert answers.status == 200
    shown = sorted(set(re.findall(r"Kurier spóźniony (\d+)", answers.body)))
    assert shown == ["0", "1", "2", "3"]  # the delivery detractors only


def test_a_changed_comment_drops_its_analysis_and_is_analysed_once_again(stack, table, clock, monkeypatch):
    from npsloop.adapters.dynamodb_table import DynamoTable
    from npsloop.domain.responses import Answer
    from tests.integration.test_import import count_invocations

    # GIVEN an analysed comment
    write_response(table, response_image("inv-pii-4", score=3, comment="Kurier spóźniony", created_at=DAY))
    stack.drain()
    assert table.get("INV#inv-pii-4", "RESPONSE")["analysis"]["M"]["analysed_text_hash"]["S"] == text_hash(
        "Kurier spóźniony"
    )
    calls = count_invocations(stack, monkeypatch, "AnalyseFunction")

    # WHEN the customer changes the comment (the respond path's update)
    changed = DynamoTable(table.name, stack.client("dynamodb"))._change_answer(
        "inv-pii-4", Answer(score=2, comment="Za drogo i za wolno"), clock.now()
    )

    # THEN the same update dropped the stale analysis
    assert changed.analysis is None and "analysis" not in table.get("INV#inv-pii-4", "RESPONSE")

    # WHEN the stream consumers run: the new comment is analysed once; its own write invokes nothing
    stack.drain()
    item = table.get("INV#inv-pii-4", "RESPONSE")
    assert item["analysis"]["M"]["analysed_text_hash"]["S"] == text_hash("Za drogo i za wolno")
    assert calls == [1]
    assert [r["eventName"] for r in response_records(stack)] == ["INSERT", "MODIFY", "MODIFY", "MODIFY"]
    assert theme_counts(table)["a#detractor"] == 1  # the comment counted once, moved to its new analysis
