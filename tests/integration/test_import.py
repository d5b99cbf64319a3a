"""The importer against the local stack: aggregates from imported history, no alerts, suppressions honoured.

The CLI's code writes to the stack's table; ``drain()`` runs the stream consumers as the template
wires them, so imported answers go through the same score, alert (filtered) and export functions.
"""

from __future__ import annotations

import copy
import io
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from npsloop.adapters.dynamodb_import import DynamoImportWriter
from npsloop.domain.aggregates import partition_parts
from npsloop.importing import cli
from npsloop.services.importing import SourceKind
from npsloop_local import delighted_export
from tests.integration.test_alert_cases import Capture
from tests.stack_support import sent_emails


def import_files(stack, tmp_path: Path, files: dict[str, Path], *extra: str):
    table = stack.outputs["TableName"]
    argv = ["--table", table, "--quiet", "--checkpoint", str(tmp_path / "cp.json"), "--rejects", str(tmp_path / "rej")]
    for kind, path in files.items():
        argv += [f"--{kind}", str(path)]
    code, summary = cli.run(
        [*argv, *extra], writer=DynamoImportWriter(table, stack.client("dynamodb")), out=io.StringIO()
    )
    assert summary is not None
    return code, summary


def aggregates(stack) -> dict[tuple[str, str], dict[str, int]]:
    """Every day item's score counters: (pk, sk) -> its counters."""
    return _counters(stack, "AGG#", lambda name: name in {"n", "commented"} or name[1:].isdigit())


def _counters(stack, prefix: str, counted: Callable[[str], bool]) -> dict[tuple[str, str], dict[str, int]]:
    """Every item whose pk starts with ``prefix`` and holds ``counted`` numbers (a Scan, paged): (pk, sk) -> them."""
    client, found = stack.client("dynamodb"), {}
    kwargs: dict[str, Any] = {"TableName": stack.outputs["TableName"]}
    while True:
        page = client.scan(**kwargs)
        for item in page["Items"]:
            numbers = {k: int(v["N"]) for k, v in item.items() if "N" in v and counted(k)}
            if item["pk"]["S"].startswith(prefix) and numbers:
                found[item["pk"]["S"], item["sk"]["S"]] = numbers
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def recount(responses: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, int]]:
    """The same aggregates, counted from the file with plain Python (overall and per store/region/channel)."""
    programs = {"nps": "post-purchase-nps", "csat": "store-visit-csat", "ces7": "support-ces"}
    expected: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for r in responses:
        program = programs[r["survey_type"]]
        day = datetime.fromtimestamp(r["created_at"], UTC).date().isoformat()
        properties = r["person_properties"]
        keys = [(f"AGG#{program}#all#{day[:7]}", f"{day}#all")]
        for dimension, prop in (("store", "Store"), ("region", "Region"), ("channel", "Channel")):
            if properties.get(prop):
                keys.append((f"AGG#{program}#{dimension}#{day[:7]}", f"{day}#{properties[prop]}"))
        for key in keys:
            expected[key]["n"] += 1
            expected[key][f"c{r['score']}"] += 1
            expected[key]["commented"] += 1 if (r["comment"] or "").strip() else 0
    return {key: {k: v for k, v in counts.items() if v} for key, counts in expected.items()}


def test_ten_thousand_delighted_responses_aggregate_exactly_and_a_re_import_changes_nothing(stack, tmp_path, clock):
    # GIVEN a Delighted export of 10,000 responses over the last thirty days (with its people file)
    end = clock.now()
    export = delighted_export.generate(10_000, end - timedelta(days=30), end - timedelta(hours=1))
    files = export.write(tmp_path / "export")

    # WHEN it is imported and the stream consumers have run
    code, summary = import_files(stack, tmp_path, files)
    stack.drain()

    # THEN every response was imported, and the aggregates equal a recount from the file
    assert code == 0
    [responses] = [s for s in summary.sources if s.source.kind is SourceKind.DELIGHTED_RESPONSES]
    assert (responses.read, responses.imported, responses.rejected) == (10_000, 10_000, 0)
    stored = aggregates(stack)
    assert {key: {k: v for k, v in counts.items() if v} for key, counts in stored.items()} == recount(export.responses)
    assert sum(c["n"] for (pk, _), c in stored.items() if partition_parts(pk)[1] == "all") == 10_000
    assert not stack.dead_letters("ScoreDeadLetterQueue") and not stack.dead_letters("ExportDeadLetterQueue")

    # WHEN the same export is imported again
    code, again = import_files(stack, tmp_path, files)
    stack.drain()

    # THEN nothing was written and no aggregate moved
    assert (again.total("imported"), again.total("skipped")) == (0, 10_000)  # people are lookups, never stored
    assert aggregates(stack) == stored


def test_imported_detractors_with_alert_keywords_open_no_case_and_fire_no_alert(stack, table, tmp_path, clock):
    # GIVEN detractors with alert keywords at stores that route alerts by email and SNS
    capture = Capture(stack)
    now = int(clock.now().timestamp())
    angry = [
        {
            "id": f"9{n}",
            "person": f"7{n}",
            "survey_type": "nps",
            "score": 0,
            "comment": "Reklamacja odrzucona, rezygnuję!" if n % 2 else "I want a refund, cancelling my card",
            "created_at": now - 3600 * n,
            "updated_at": now - 3600 * n,
            "person_properties": {"Customer ID": f"C-9{n}", "Store": "WAW-02", "Region": "mazowieckie"},
            "notes": [],
            "tags": [],
        }
        for n in range(6)
    ]
    path = tmp_path / "angry.json"
    path.write_text(json.dumps(angry, ensure_ascii=False), encoding="utf-8")

    # WHEN they are imported and the stream consumers have run
    import_files(stack, tmp_path, {"delighted-responses": path})
    stack.drain()

    # THEN they are scored, but no alert, no case, no bus event and no email followed
    assert len(table.items("response")) == 6
    today = clock.now().date().isoformat()
    assert table.get(f"AGG#post-purchase-nps#store#{today[:7]}", f"{today}#WAW-02") is not None
    assert capture.alerts() == [] and capture.events() == []
    assert table.items("case") == []
    assert not [i for i in table.items() if i["sk"]["S"].startswith("ALERT#")]
    assert sent_emails(stack) == []

    # AND the same response written live (no "imported" mark) does alert: the filter is what held them back
    live = {k: v for k, v in table.items("response")[0].items() if k not in {"imported", "source", "source_id"}}
    live["pk"] = {"S": "INV#live-twin"}
    live["invitation_id"] = {"S": "live-twin"}
    table.client.put_item(TableName=table.name, Item=live)
    stack.drain()
    assert capture.alerts() != [] and len(table.items("case")) == 1


def test_imported_unsubscribes_and_bounces_make_the_invite_skip_those_customers(stack, tmp_path, event):
    # GIVEN an order for a customer whose address unsubscribed in Delighted, and one whose address bounced
    files = {
        "delighted-unsubscribes": tmp_path / "u.json",
        "delighted-bounces": tmp_path / "b.json",
    }
    files["delighted-unsubscribes"].write_text(
        json.dumps([{"person_id": "1", "email": "Jane.Doe@example.com", "name": "Jane", "unsubscribed_at": 1}]),
        encoding="utf-8",
    )
    files["delighted-bounces"].write_text(
        json.dumps([{"person_id": "2", "email": "gone@example.com", "name": None, "bounced_at": 2}]), encoding="utf-8"
    )
    code, summary = import_files(stack, tmp_path, files)
    assert code == 0 and summary.total("imported") == 2

    # WHEN their orders arrive
    first = event("order-completed.json")
    second = copy.deepcopy(first)
    second["detail"].update(event_id="evt-ord-other", order_id="ORD-other")
    second["detail"]["customer"].update(id="C-2", email="gone@example.com")
    outcomes = [stack.invoke("InviteFunction", e)["outcomes"][0] for e in (first, second)]

    # THEN neither is surveyed
    assert [(o["result"], o["reason"]) for o in outcomes] == [("skipped", "suppressed"), ("skipped", "suppressed")]
    assert sent_emails(stack) == []


def theme_days(stack) -> dict[tuple[str, str], dict[str, int]]:
    """Every day item's theme counters: (pk, sk) -> them."""
    return _counters(stack, "AGG#", lambda name: name[:2] in THEMED)


THEMED = ("a#", "s#", "t#")


def count_invocations(stack, monkeypatch, logical_id: str) -> list[int]:
    """The number of records of each invocation of a stream function."""
    module = stack.handler_module(logical_id)
    handler, sizes = module.lambda_handler, []

    def counting(event, context):
        sizes.append(len(event["Records"]))
        return handler(event, context)

    monkeypatch.setattr(module, "lambda_handler", counting)
    return sizes


def test_imported_comments_arrive_analysed_once_and_their_themes_count_without_a_modify(
    stack, tmp_path, clock, monkeypatch
):
    # GIVEN a Delighted export of 200 responses, some with comments
    end = clock.now()
    export = delighted_export.generate(200, end - timedelta(days=10), end - timedelta(hours=1))
    files = export.write(tmp_path / "export")
    commented = sum(1 for r in export.responses if (r["comment"] or "").strip())
    assert commented > 20
    analyse_calls = count_invocations(stack, monkeypatch, "AnalyseFunction")

    # WHEN it is imported (analysing inline, the default) and the stream consumers have run
    code, summary = import_files(stack, tmp_path, files)
    stack.drain()

    # THEN every commented response carries its analysis, reached the stream once (INSERT), and the
    # analyse function was not invoked at all
    assert code == 0 and summary.total("analysed") == commented
    from tests.integration.test_score_handler import response_records

    records = response_records(stack)
    assert {r["eventName"] for r in records} == {"INSERT"} and len(records) == 200
    with_analysis = [r for r in records if "analysis" in r["dynamodb"]["NewImage"]]
    assert len(with_analysis) == commented
    assert analyse_calls == []

    # AND the theme aggregates count each analysed comment once (every comment is in one group of "all")
    days = theme_days(stack)
    analyses = stored_analyses(stack).values()
    assert theme_totals(stack) == (commented, sum(len(set(a["themes"])) for a in analyses))

    # WHEN the import is replayed: nothing is written, analysed or counted again
    code, again = import_files(stack, tmp_path, files)
    stack.drain()
    assert (again.total("imported"), again.total("analysed")) == (0, 0)
    assert len(response_records(stack)) == 200 and theme_days(stack) == days and analyse_calls == []


def theme_totals(stack) -> tuple[int, int]:
    """(comments counted, theme mentions counted) over the "all" theme days."""
    days = [c for (pk, _), c in theme_days(stack).items() if partition_parts(pk)[1] == "all"]
    return (
        sum(v for c in days for k, v in c.items() if k.startswith("a#")),
        sum(v for c in days for k, v in c.items() if k.startswith("t#")),
    )


def stored_analyses(stack) -> dict[str, Any]:
    from npsloop.adapters.dynamodb_items import _unmarshal

    client = stack.client("dynamodb")
    items = client.scan(TableName=stack.outputs["TableName"], ConsistentRead=True)["Items"]
    return {i["pk"]["S"]: _unmarshal(i["analysis"]["M"]) for i in items if "analysis" in i}


def test_an_import_without_analysis_then_the_backfill_gives_what_the_inline_analysis_gives(
    stack, tmp_path, clock, monkeypatch
):
    from npsloop.text.backfill import run as backfill

    # GIVEN an export imported with --no-analysis while the analyse function takes nothing from the stream
    end = clock.now()
    export = delighted_export.generate(120, end - timedelta(days=10), end - timedelta(hours=1))
    files = export.write(tmp_path / "export")
    module = stack.handler_module("AnalyseFunction")
    monkeypatch.setattr(module, "lambda_handler", lambda event, context: {"batchItemFailures": []})
    code, summary = import_files(stack, tmp_path, files, "--no-analysis")
    stack.drain()
    assert code == 0 and summary.total("analysed") == 0 and stored_analyses(stack) == {}
    assert theme_totals(stack) == (0, 0)

    # WHEN the backfill runs and the stream consumers have run
    backfill(stack.outputs["TableName"], None, tmp_path / "backfill.json", client=stack.client("dynamodb"))
    stack.drain()

    # THEN the analyses and the theme aggregates are those the inline analysis writes
    from npsloop.adapters.dynamodb_items import _unmarshal
    from npsloop.domain.responses import Response
    from npsloop.services.analyse import analyses_of
    from npsloop.text.providers import BuiltinProvider

    client = stack.client("dynamodb")
    items = client.scan(TableName=stack.outputs["TableName"], ConsistentRead=True)["Items"]
    responses = [Response.model_validate(_unmarshal(i)) for i in items if i["entity"]["S"] == "response"]
    commented = [r for r in responses if r.comment]
    inline = analyses_of(commented, BuiltinProvider())
    assert stored_analyses(stack) == {
        f"INV#{r.invitation_id}": a.model_dump(mode="json") for r, a in zip(commented, inline, strict=True)
    }
    assert theme_totals(stack) == (len(commented), sum(len(set(a.themes)) for a in inline))
