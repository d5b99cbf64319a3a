"""The score function with its 15-minute tumbling window on the local stack, the clock moving as in the demo."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
from npsloop.adapters.dynamodb_items import StorageError
from npsloop.clock import ManualClock
from npsloop_local.stack import LocalStack
from tests.fakes_score import response
from tests.integration.test_score_handler import counts, put_responses
from tests.stack_support import Table

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a window starts: 09:00-09:15


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def windowed(clock, tmp_path) -> Iterator[LocalStack]:
    """The app's stack as the demo starts it: stream consumers wait out their windows by the clock."""
    outbox = tmp_path / "outbox"
    with LocalStack(ROOT / "template.yaml", clock=clock, outbox_dir=outbox, batching_windows=True) as stack:
        yield stack
        assert not stack.authorizer.denied


def answers_over_ten_minutes(stack, table, clock):
    """30 answers (7 to 10, four stores), one every 20 s from 09:00, drained as they come."""
    for i in range(30):
        clock.set(START + timedelta(seconds=20 * i))
        put_responses(stack, table, [response(i, 7 + i % 4, store=f"S{i % 4:02d}", created_at=clock.now())])
        stack.drain()


def test_scores_land_when_their_window_ends_each_key_written_once(windowed, clock):
    table = Table(windowed)
    answers_over_ten_minutes(windowed, table, clock)
    clock.set(START + timedelta(minutes=14, seconds=59))
    windowed.drain()
    assert counts(table) is None  # the window is still open: its answers are in Lambda's state

    clock.set(START + timedelta(minutes=15))
    windowed.drain()

    assert counts(table)["n"] == 30
    assert {f"S{s:02d}": counts(table, "store", f"S{s:02d}")["n"] for s in range(4)} == {
        "S00": 8,
        "S01": 8,
        "S02": 7,
        "S03": 7,
    }
    (journal,) = table.items("aggregate_journal")
    assert journal["records"] == {"N": "7"}  # all, 4 stores, a region, a channel: each key once for 30 answers
    (checkpoint,) = table.items("aggregate_checkpoint")
    assert checkpoint["pk"]["S"].startswith("AGGC#shardId-")


def test_a_final_invocation_that_fails_half_way_is_retried_with_its_state_and_counts_exactly(
    windowed, clock, monkeypatch
):
    table = Table(windowed)
    answers_over_ten_minutes(windowed, table, clock)
    real_add, calls = DynamoAggregates.add, []

    def failing_once(self, *args, **kwargs):
        calls.append(args[1])
        if len(calls) == 4:  # three keys written, then DynamoDB fails
            raise StorageError("throttled")
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(DynamoAggregates, "add", failing_once)
    clock.set(START + timedelta(minutes=15))
    windowed.drain()

    assert len(calls) == 4 + 7  # the retry met every key again: the first three were refused by their marks
    assert counts(table)["n"] == 30
    assert sum(counts(table, "store", f"S{s:02d}")["n"] for s in range(4)) == 30
    assert windowed.dead_letters("ScoreDeadLetterQueue") == []
