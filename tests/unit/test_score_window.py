"""The score function with a tumbling window: batches fold into the state, the window's end writes it once."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from npsloop.domain.aggregates import AggregateKey, DayDelta, Delta, FunnelDelta
from npsloop.domain.programs import load_programs
from npsloop.domain.score_window import WindowState, day_delta_of
from npsloop.domain.surveys import SurveyType
from npsloop.domain.themes import ThemeDelta
from npsloop.services import score as score_module
from npsloop.services.score import ScoreService
from tests.fakes_score import Crash, InMemoryAggregates, record, response
from tests.unit import test_score_service as score_tests

SHARD = "shardId-00000001795000000000-0a1b2c3d"


# The score service over an in-memory aggregate store and parking, as its per-batch tests have it.
aggregates, parking, service = score_tests.aggregates, score_tests.parking, score_tests.service


def windowed(records, state=None, *, final=False, early=False, shard=SHARD) -> dict:
    """A stream event as Lambda sends it with ``TumblingWindowInSeconds`` (AWS docs' DynamodbTimeWindowEvent)."""
    return {
        "Records": list(records),
        "window": {"start": "2026-11-20T09:00:00Z", "end": "2026-11-20T09:15:00Z"},
        "state": {} if state is None else copy.deepcopy(state),
        "shardId": shard,
        "eventSourceARN": "arn:aws:dynamodb:eu-central-1:123456789012:table/npsloop/stream/2026-11-20T00:00:00.000",
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": early,
    }


def inserts(first: int, count: int, stores: int = 5):
    return [record("INSERT", new=response(i, i % 11, store=f"S{i % stores:02d}")) for i in range(first, first + count)]


def run_window(service, batches, state=None):
    """Each batch folded in turn, then the final invocation; the state Lambda would carry between them."""
    for records in batches:
        reply = service.handle(windowed(records, state)).response()
        assert "state" in reply and reply["batchItemFailures"] == []
        state = reply["state"]
    final = service.handle(windowed([], state, final=True))
    assert final.response() == {"batchItemFailures": [], "state": {}}
    return state, final


def test_batches_of_a_window_write_nothing_and_its_end_writes_each_key_once(service, aggregates):
    first = service.handle(windowed(inserts(0, 40)))
    second = service.handle(windowed(inserts(40, 60), first.response()["state"]))

    assert aggregates.add_calls == [] and aggregates.opened == []
    json.dumps(second.response())  # the state is plain JSON, as Lambda carries it
    final = service.handle(windowed([], second.response()["state"], final=True))

    assert final.updates == 1 + 5 + 1 + 1  # all, 5 stores, 1 region, 1 channel: one write per key for 100 answers
    assert len(aggregates.opened) == 1
    assert aggregates.counts() == (100, {s: len([i for i in range(100) if i % 11 == s]) for s in range(11)})
    assert aggregates.counts("store", "S00")[0] == 20


def test_the_window_writes_what_per_batch_writes_would(aggregates, parking, clock):
    records = [
        record("INSERT", new=response(1, 3, comment="late")),
        record("INSERT", new=response(2, 10)),
        record("MODIFY", old=response(1, 3, comment="late"), new=response(1, 9, comment="late", version=2)),
        record("REMOVE", old=response(2, 10)),
        *inserts(10, 30),
    ]
    per_batch = InMemoryAggregates()
    plain = ScoreService(programs=load_programs(), aggregates=per_batch, parking=parking, clock=clock)
    for n in range(0, len(records), 7):
        plain.handle({"Records": copy.deepcopy(records[n : n + 7])})
    window = ScoreService(programs=load_programs(), aggregates=aggregates, parking=parking, clock=clock)

    run_window(window, [copy.deepcopy(records[n : n + 7]) for n in range(0, len(records), 7)])

    assert aggregates.items == per_batch.items
    assert len(aggregates.add_calls) < len(per_batch.add_calls)


def test_a_record_delivered_again_within_the_window_or_after_it_counts_once(service, aggregates):
    records = inserts(0, 20)
    state = service.handle(windowed(records[:10])).response()["state"]
    # Lambda may hand a record over twice (rarely out of order): the state knows the last one it holds.
    again = service.handle(windowed(copy.deepcopy(records[5:20]), state))
    assert again.counted_before == 5
    service.handle(windowed([], again.response()["state"], final=True))
    assert aggregates.counts()[0] == 20

    assert aggregates.checkpoints[SHARD] == records[-1]["dynamodb"]["SequenceNumber"]

    # The next window starts with a fresh state: the shard's checkpoint stops a late duplicate.
    more = inserts(20, 5)
    late = service.handle(windowed(copy.deepcopy(records[15:]) + more))
    assert late.counted_before == 5
    service.handle(windowed([], late.response()["state"], final=True))
    assert aggregates.counts()[0] == 25
    assert aggregates.checkpoints[SHARD] == more[-1]["dynamodb"]["SequenceNumber"]


@pytest.mark.parametrize("crash_after", [1, 4, 7])
def test_a_final_invocation_that_dies_mid_write_is_retried_with_the_same_state_and_counts_exactly(
    aggregates, parking, clock, crash_after
):
    service = ScoreService(programs=load_programs(), aggregates=aggregates, parking=parking, clock=clock, max_updates=3)
    state = service.handle(windowed(inserts(0, 50))).response()["state"]
    aggregates.crash_adds = {crash_after}

    with pytest.raises(Crash):
        service.handle(windowed([], state, final=True))
    retry = service.handle(windowed([], state, final=True))  # Lambda: the same final invocation again
    replay = service.handle(windowed([], state, final=True))  # and once more, as if its reply were lost

    assert retry.skipped_keys + retry.replayed_chunks >= 1
    assert replay.updates == 0 and replay.replayed_chunks == 3  # 8 keys: chunks of 3, 3 and 2
    assert aggregates.counts()[0] == 50
    assert all(aggregates.counts("store", f"S{i:02d}")[0] == 10 for i in range(5))


def test_a_failed_batch_is_retried_with_the_state_before_it(service, aggregates, parking):
    records = inserts(0, 20)
    poison = record("INSERT", new={"pk": "INV#bad", "sk": "RESPONSE", "entity": "response", "score": 3})
    records += inserts(20, 10)  # stream order: the poison record comes after the first 20
    state = service.handle(windowed(records[:10])).response()["state"]
    parked = parking.park
    parking.park = lambda event, reason: (_ for _ in ()).throw(ConnectionError("SQS unreachable"))
    with pytest.raises(ConnectionError):  # the invocation fails: Lambda keeps the state from before it
        service.handle(windowed([*records[10:20], poison], state))
    parking.park = parked

    state = service.handle(windowed([*copy.deepcopy(records[10:20]), poison], state)).response()["state"]
    run_window(service, [copy.deepcopy(records[20:])], state)

    assert aggregates.counts()[0] == 30
    assert len(parking.parked) == 1


def test_a_large_state_is_written_before_the_next_batch_and_a_retry_writes_it_once(service, aggregates, monkeypatch):
    monkeypatch.setattr(score_module, "FLUSH_BYTES", 2_000)
    state = service.handle(windowed(inserts(0, 40, stores=40))).response()["state"]
    assert WindowState.load(state).size() > 2_000

    early = service.handle(windowed(inserts(40, 10, stores=40), state))
    assert early.updates == 1 + 40 + 1 + 1  # the state carried in, written before this batch is folded
    again = service.handle(windowed(inserts(40, 10, stores=40), state))  # a retry of that invocation
    assert again.updates == 0 and again.replayed_chunks == 1

    service.handle(windowed([], early.response()["state"], final=True))
    assert aggregates.counts()[0] == 50


def test_a_window_ended_early_is_written_and_the_window_goes_on_with_a_fresh_state(service, aggregates):
    state = service.handle(windowed(inserts(0, 10))).response()["state"]

    ended = service.handle(windowed(inserts(10, 10), state, early=True))
    assert ended.response()["state"] == {}
    state, _ = run_window(service, [inserts(20, 10)])

    assert aggregates.counts()[0] == 30


def test_shards_keep_their_own_checkpoints(service, aggregates):
    one, two = inserts(0, 10), inserts(10, 10)

    run_window(service, [one])
    state = service.handle(windowed(two, shard="shardId-2")).response()["state"]
    service.handle(windowed([], state, final=True, shard="shardId-2"))

    assert aggregates.counts()[0] == 20
    assert set(aggregates.checkpoints) == {SHARD, "shardId-2"}


def test_a_state_of_another_version_fails_the_invocation(service):
    with pytest.raises(ValueError, match="version"):
        service.handle(windowed(inserts(0, 1), {"v": 99}))


def test_an_event_without_a_shard_is_refused(service):
    event = windowed(inserts(0, 1))
    del event["shardId"]
    with pytest.raises(ValueError, match="shardId"):
        service.handle(event)


def test_a_day_delta_survives_the_state_whole():
    key = AggregateKey("post-purchase-nps", "store", "KRK#02 / główny", date(2026, 11, 20))
    delta = DayDelta()
    delta.add(Delta(SurveyType.NPS, n=1, counts={3: 1, 9: -1}, commented=1))
    delta.add(FunnelDelta({"opened": 2, "commented": 1}))
    delta.add(ThemeDelta({"t#delivery#negative#detractor": 1, "a#detractor": 1}))
    state = WindowState()
    state.fold("42", {key: delta})

    ((back_key, back),) = WindowState.load(json.loads(json.dumps(state.dump()))).updates()

    assert back_key == key
    assert back.fixed() == delta.fixed() and sorted(back.counters()) == sorted(delta.counters())
    assert day_delta_of({"f#opened": 0}).is_zero
