"""A part of the work in a forked copy of the local stack, merged back (npsloop_local.forked).

The demo imports its history as two files in two processes. These tests hold the merge to what one
stack would have: the same aggregates (an independent recount from the file), every answer exported
once, and the child's objects and parked messages in the parent's bucket and queue. Two processes
writing one item differently, and a child that fails, stop the run with the reason.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from npsloop_local import delighted_export, forked, moto_peek
from tests.integration.test_import import aggregates, import_files, recount

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the demo forks only on Linux")


def exported_response_rows(stack) -> list[dict]:
    account = stack.dispatcher.resolver.account_id
    objects = moto_peek.bucket_objects(account, stack.physical_id("ExportBucket")) or {}
    return [
        json.loads(line)
        for key, body in objects.items()
        if key.startswith("responses/")
        for line in gzip.decompress(body).decode().splitlines()
    ]


def test_a_history_imported_in_two_processes_scores_and_exports_as_one_import_does(stack, tmp_path, clock):
    # GIVEN a Delighted export of 1,200 responses over 60 days, written whole and in two parts at a UTC midnight
    end = clock.now()
    export = delighted_export_of(1_200, end, tmp_path)
    files = export.write(tmp_path / "export")
    middle = end - timedelta(days=30)
    earlier, later = export.write_split(
        tmp_path / "export", datetime(middle.year, middle.month, middle.day, tzinfo=UTC)
    )

    # WHEN a forked child imports the earlier half and the parent the rest, each draining the consumers
    def part(chosen: dict[str, Path], work: Path) -> int:
        code, summary = import_files(stack, work, chosen)
        stack.drain()
        return summary.total("imported") if code == 0 else -1

    (tmp_path / "child").mkdir()
    (tmp_path / "parent").mkdir()
    child = forked.fork(stack, lambda: part({"delighted-responses": earlier}, tmp_path / "child"), tmp_path / "fork")
    assert child is not None
    own = part({**files, "delighted-responses": later}, tmp_path / "parent")
    theirs = child.join(stack)

    # THEN the halves add up, the aggregates equal a recount of the whole file, and every answer is
    # exported exactly once, with nothing parked
    halves = [json.loads(path.read_text()) for path in (earlier, later)]
    assert len(halves[0]) + len(halves[1]) == 1_200 and halves[0] and halves[1]
    assert theirs == len(halves[0])
    assert own == len(halves[1]) + len(export.unsubscribes) + len(export.bounces)
    stored = aggregates(stack)
    assert {key: {k: v for k, v in counts.items() if v} for key, counts in stored.items()} == recount(export.responses)
    rows = exported_response_rows(stack)
    assert len(rows) == 1_200
    assert len({row["response_id"] for row in rows}) == 1_200
    assert not stack.dead_letters("ScoreDeadLetterQueue") and not stack.dead_letters("ExportDeadLetterQueue")

    # AND index queries see the child's items (the patch's index was rebuilt): the answers of a month
    month = json.loads(earlier.read_text())[0]["created_at"]
    assert _answers_of_month(stack, month)


def delighted_export_of(count: int, end, tmp_path: Path):
    return delighted_export.generate(count, end - timedelta(days=60), end - timedelta(hours=1))


def _answers_of_month(stack, unix_seconds: int) -> list[dict]:
    month = datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m")
    client = stack.client("dynamodb")
    found = []
    for program in ("post-purchase-nps", "store-visit-csat", "support-ces"):
        found += client.query(
            TableName=stack.outputs["TableName"],
            IndexName="GSI1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"ANSWERS#{program}#{month}"}},
        )["Items"]
    return found


def _put(stack, pk: str, value: str) -> None:
    stack.client("dynamodb").put_item(
        TableName=stack.outputs["TableName"], Item={"pk": {"S": pk}, "sk": {"S": "X"}, "v": {"S": value}}
    )


def test_the_same_item_written_differently_by_both_processes_stops_the_merge(stack, tmp_path):
    # GIVEN a child and its parent that both write the item TEST#1, with other content
    child = forked.fork(stack, lambda: _put(stack, "TEST#1", "child"), tmp_path / "fork")
    assert child is not None
    _put(stack, "TEST#1", "parent")

    # WHEN the parent takes the child's part
    # THEN it refuses, naming the item
    with pytest.raises(forked.ConflictingItem, match="TEST#1"):
        child.join(stack)


def test_an_item_both_processes_wrote_alike_is_taken_once(stack, tmp_path):
    child = forked.fork(stack, lambda: _put(stack, "TEST#2", "same"), tmp_path / "fork")
    assert child is not None
    _put(stack, "TEST#2", "same")

    child.join(stack)

    item = stack.client("dynamodb").get_item(
        TableName=stack.outputs["TableName"], Key={"pk": {"S": "TEST#2"}, "sk": {"S": "X"}}
    )["Item"]
    assert item["v"] == {"S": "same"}


def test_a_failing_child_stops_the_parent_with_its_traceback(stack, tmp_path):
    def fails() -> None:
        raise ValueError("the child's own reason")

    child = forked.fork(stack, fails, tmp_path / "fork")
    assert child is not None
    with pytest.raises(RuntimeError, match="the child's own reason"):
        child.join(stack)


def test_a_child_that_does_not_finish_is_stopped_and_the_parent_told(stack, tmp_path):
    child = forked.fork(stack, lambda: threading.Event().wait(), tmp_path / "fork")  # never finishes
    assert child is not None
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="did not finish within 1 s"):
        child.join(stack, timeout_s=1.0)
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):  # reaped: nothing left running
        os.waitpid(child.pid, os.WNOHANG)


def test_the_childs_objects_and_parked_messages_reach_the_parent_and_the_parents_stay_single(stack, tmp_path):
    # GIVEN a message parked and an object exported before the fork
    sqs, s3 = stack.client("sqs"), stack.client("s3")
    queue, bucket = stack.physical_id("ExportDeadLetterQueue"), stack.physical_id("ExportBucket")
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"parked": "before"}))
    s3.put_object(Bucket=bucket, Key="responses/dt=2026-01-01/before.json.gz", Body=b"before")

    # WHEN the child parks one more and writes one more object
    def work() -> None:
        sqs.send_message(
            QueueUrl=queue,
            MessageBody=json.dumps({"parked": "child"}),
            MessageAttributes={"reason": {"DataType": "String", "StringValue": "unreadable"}},
        )
        s3.put_object(
            Bucket=bucket, Key="responses/dt=2026-01-02/child.json.gz", Body=b"child", ContentType="application/gzip"
        )

    child = forked.fork(stack, work, tmp_path / "fork")
    assert child is not None
    child.join(stack)

    # THEN the parent holds both messages and both objects, each once, the child's with its type
    assert sorted(m["parked"] for m in stack.dead_letters("ExportDeadLetterQueue")) == ["before", "child"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == ["responses/dt=2026-01-01/before.json.gz", "responses/dt=2026-01-02/child.json.gz"]
    head = s3.head_object(Bucket=bucket, Key="responses/dt=2026-01-02/child.json.gz")
    assert head["ContentType"] == "application/gzip"
