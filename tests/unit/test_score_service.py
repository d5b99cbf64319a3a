"""The score stream consumer with an in-memory aggregate store: coalescing, replay, failures, poison."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from npsloop.domain.programs import load_programs
from npsloop.services.score import MARK_LIFETIME, ScoreService
from tests.fakes import ListParking
from tests.fakes_score import Crash, InMemoryAggregates, record, response
from tests.stream_records import batch

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture
def aggregates() -> InMemoryAggregates:
    return InMemoryAggregates()


@pytest.fixture
def parking() -> ListParking:
    return ListParking()


@pytest.fixture
def service(aggregates, parking, clock) -> ScoreService:
    return ScoreService(programs=load_programs(), aggregates=aggregates, parking=parking, clock=clock)


def hundred_inserts(stores: int = 5):
    return [record("INSERT", new=response(i, i % 11, store=f"S{i % stores:02d}")) for i in range(100)]


def test_a_batch_writes_each_aggregate_key_once(service, aggregates):
    outcome = service.handle(batch(*hundred_inserts()))

    assert outcome.response() == {"batchItemFailures": []}
    (written,) = aggregates.batches_written()  # one chunk for the whole batch
    assert len(aggregates.opened) == 1
    assert len(written) == 1 + 5 + 1 + 1  # all, 5 stores, 1 region, 1 channel: one update per key
    assert aggregates.counts() == (100, {s: len([i for i in range(100) if i % 11 == s]) for s in range(11)})
    assert aggregates.counts("store", "S00")[0] == 20


def test_modify_moves_the_count_and_remove_takes_it_out(service, aggregates):
    first = response(1, 3)
    changed = response(1, 9, version=2)
    service.handle(batch(record("INSERT", new=first), record("INSERT", new=response(2, 10))))

    service.handle(batch(record("MODIFY", old=first, new=changed)))
    assert aggregates.counts() == (2, {9: 1, 10: 1})

    service.handle(batch(record("REMOVE", old=changed)))
    assert aggregates.counts() == (1, {10: 1})
    assert aggregates.counts("store", "S01") == (1, {10: 1})


def test_a_comment_only_change_writes_only_commented(service, aggregates):
    service.handle(batch(record("INSERT", new=response(1, 7))))
    service.handle(batch(record("MODIFY", old=response(1, 7), new=response(1, 7, comment="late", version=2))))

    assert aggregates.counts() == (1, {7: 1})
    assert {tuple(delta.counters()) for delta in aggregates.batches_written()[-1].values()} == {(("commented", 1),)}


def test_the_same_batch_twice_counts_once(service, aggregates):
    event = batch(*hundred_inserts())

    service.handle(event)
    replay = service.handle(copy.deepcopy(event))

    assert replay.replayed_chunks == 1 and replay.applied_chunks == 0
    assert aggregates.counts()[0] == 100
    assert len(aggregates.add_calls) == 8  # the replay wrote no aggregate


def test_a_batch_of_more_keys_than_a_chunk_holds_is_chunked_in_record_order(aggregates, parking, clock):
    service = ScoreService(
        programs=load_programs(), aggregates=aggregates, parking=parking, clock=clock, max_updates=10
    )
    records = [record("INSERT", new=response(i, 9, store=f"S{i:02d}")) for i in range(20)]  # 3 shared + 1 per store

    outcome = service.handle(batch(*records))

    assert outcome.applied_chunks == 3  # 7 + 7 + 6 stores
    assert [len(call) for call in aggregates.batches_written()] == [10, 10, 9]
    assert aggregates.counts() == (20, {9: 20})


def chunked_service(aggregates, parking, clock) -> ScoreService:
    return ScoreService(programs=load_programs(), aggregates=aggregates, parking=parking, clock=clock, max_updates=10)


def twenty_one():
    return [record("INSERT", new=response(i, 9, store=f"S{i:02d}")) for i in range(21)]  # chunks 0-6, 7-13, 14-20


def test_a_failed_chunk_reports_its_anchor_and_stops_and_redelivery_counts_exactly(aggregates, parking, clock):
    service = chunked_service(aggregates, parking, clock)
    records = twenty_one()
    aggregates.fail_adds = {10 + 6}  # the 6th key of the second chunk: its first 5 keys are written

    outcome = service.handle(batch(*records))

    assert outcome.response() == {"batchItemFailures": [{"itemIdentifier": records[7]["dynamodb"]["SequenceNumber"]}]}
    assert len(aggregates.opened) == 2  # the third chunk was never begun
    assert aggregates.counts()[0] == 14  # the overall key of the second chunk came first (sorted): written

    # Lambda resumes from the reported record; then a whole-batch redelivery replays nothing twice.
    again = service.handle(batch(*copy.deepcopy(records[7:])))
    assert again.response() == {"batchItemFailures": []}
    assert again.resumed_chunks == 1 and again.skipped_keys == 5
    assert aggregates.counts() == (21, {9: 21})
    assert all(aggregates.counts("store", f"S{i:02d}") == (1, {9: 1}) for i in range(21))
    service.handle(batch(*copy.deepcopy(records)))
    assert aggregates.counts() == (21, {9: 21})


@pytest.mark.parametrize("crash_after", [1, 3, 8, 10, 11, 17])
def test_a_crash_after_any_write_then_the_whole_batch_again_counts_exactly(aggregates, parking, clock, crash_after):
    # The process dies after the n-th aggregate write; the event source retries the whole batch
    # (it does not bisect), and the retry holds more records than the first delivery.
    service = chunked_service(aggregates, parking, clock)
    records = twenty_one()
    aggregates.crash_adds = {crash_after}

    with pytest.raises(Crash):
        service.handle(batch(*records[:14]))
    retry = service.handle(batch(*copy.deepcopy(records)))

    assert retry.response() == {"batchItemFailures": []}
    assert aggregates.counts() == (21, {9: 21})
    assert all(aggregates.counts("store", f"S{i:02d}") == (1, {9: 1}) for i in range(21))
    assert aggregates.counts("region", "north") == (21, {9: 21})


def test_a_crash_after_closing_a_chunk_replays_it_without_writing(aggregates, parking, clock):
    service = chunked_service(aggregates, parking, clock)
    records = twenty_one()
    aggregates.crash_at_close = True
    with pytest.raises(Crash):
        service.handle(batch(*records))
    aggregates.crash_at_close = False
    writes = len(aggregates.add_calls)

    retry = service.handle(batch(*copy.deepcopy(records)))

    assert retry.replayed_chunks == 1 and retry.applied_chunks == 2
    assert len(aggregates.add_calls) == writes + 20  # the first chunk's 10 keys are not written again
    assert aggregates.counts() == (21, {9: 21})


def test_a_write_that_landed_but_whose_reply_was_lost_is_not_counted_twice(aggregates, parking, clock):
    service = chunked_service(aggregates, parking, clock)
    records = twenty_one()
    aggregates.lost_replies = {4}

    first = service.handle(batch(*records))
    assert first.failures == [records[0]["dynamodb"]["SequenceNumber"]]
    retry = service.handle(batch(*copy.deepcopy(records)))

    assert retry.skipped_keys == 4
    assert aggregates.counts() == (21, {9: 21})
    assert aggregates.counts("store", "S00") == (1, {9: 1})


def test_a_chunk_cut_by_the_end_of_its_batch_keeps_its_extent_when_the_batch_grows(aggregates, parking, clock):
    # GIVEN a batch of 5 records (one chunk, cut by the batch's end) that fails after 2 writes
    service = chunked_service(aggregates, parking, clock)
    records = twenty_one()
    aggregates.fail_adds = {3}
    assert service.handle(batch(*records[:5])).failures == [records[0]["dynamodb"]["SequenceNumber"]]

    # WHEN Lambda retries from the same record with a batch of 12 (overlapping the first)
    retry = service.handle(batch(*copy.deepcopy(records[:12])))

    # THEN the first chunk is the same 5 records, finished, and the rest is a new chunk
    assert retry.resumed_chunks == 1 and retry.applied_chunks == 1
    assert aggregates.counts() == (12, {9: 12})
    assert all(aggregates.counts("store", f"S{i:02d}") == (1, {9: 1}) for i in range(12))


def test_a_batch_that_holds_only_part_of_a_begun_chunk_writes_nothing_and_reports_it(aggregates, parking, clock):
    service = chunked_service(aggregates, parking, clock)
    records = twenty_one()
    aggregates.crash_adds = {2}
    with pytest.raises(Crash):
        service.handle(batch(*records[:7]))
    writes = len(aggregates.add_calls)

    short = service.handle(batch(*copy.deepcopy(records[:3])))  # fewer records than the chunk spans

    assert short.failures == [records[0]["dynamodb"]["SequenceNumber"]]
    assert len(aggregates.add_calls) == writes
    service.handle(batch(*copy.deepcopy(records)))
    assert aggregates.counts() == (21, {9: 21})


def test_interleaved_batches_of_two_shards_on_the_same_keys_count_exactly(aggregates, parking, clock):
    # Two shards' batches write the same overall/region/channel keys; each is redelivered after a
    # lost reply while the other's chunks land in between.
    service = chunked_service(aggregates, parking, clock)
    shard_a = [record("INSERT", new=response(i, 9, store="S01")) for i in range(10)]
    shard_b = [record("INSERT", new=response(100 + i, 10, store="S01")) for i in range(10)]
    aggregates.lost_replies = {2}

    assert service.handle(batch(*shard_a)).failures
    service.handle(batch(*shard_b))
    service.handle(batch(*copy.deepcopy(shard_a)))
    service.handle(batch(*copy.deepcopy(shard_b)))

    assert aggregates.counts() == (20, {9: 10, 10: 10})
    assert aggregates.counts("store", "S01") == (20, {9: 10, 10: 10})


def test_a_poison_record_among_100_is_parked_and_the_other_99_count(service, aggregates, parking):
    records = hundred_inserts()
    records[42]["dynamodb"]["NewImage"]["score"] = {"N": "11"}  # outside the NPS scale
    records[42]["dynamodb"]["NewImage"]["comment"] = {"S": "secret comment"}

    outcome = service.handle(batch(*records))

    assert outcome.response() == {"batchItemFailures": []}
    assert aggregates.counts()[0] == 99
    ((parked, reason),) = parking.parked
    assert parked["eventID"] == records[42]["eventID"]
    assert "score" in reason and "secret" not in reason


def test_an_unreadable_record_is_parked_with_its_reason(service, aggregates, parking):
    broken = record("INSERT", new=response(1, 9))
    del broken["dynamodb"]["NewImage"]

    service.handle(batch(broken, record("INSERT", new=response(2, 10))))

    assert aggregates.counts() == (1, {10: 1})
    assert "without NewImage" in parking.parked[0][1]


def test_records_of_other_entities_are_ignored(service, aggregates, parking):
    profile = {"entity": "customer", "customer_id": "C-1", "pk": "CUST#C-1", "sk": "PROFILE"}

    outcome = service.handle(batch(record("INSERT", new=profile)))

    assert aggregates.add_calls == [] and aggregates.opened == [] and parking.parked == []
    assert outcome.unchanged == 1


def test_parking_that_fails_fails_the_chunk_before_anything_is_written(service, aggregates, clock):
    class BrokenParking(ListParking):
        def park(self, event, reason):
            raise RuntimeError("sqs down")

    failing = ScoreService(programs=load_programs(), aggregates=aggregates, parking=BrokenParking(), clock=clock)
    records = hundred_inserts()
    records[5]["dynamodb"]["NewImage"]["score"] = {"S": "ten"}

    outcome = failing.handle(batch(*records))

    assert outcome.failures == [records[0]["dynamodb"]["SequenceNumber"]]
    assert aggregates.add_calls == []


def test_no_chunk_starts_without_time_left_for_it(service, aggregates):
    records = hundred_inserts()

    outcome = service.handle(batch(*records), time_left_ms=lambda: 1_000)

    assert outcome.failures == [records[0]["dynamodb"]["SequenceNumber"]]
    assert aggregates.add_calls == [] and aggregates.opened == []


def test_a_chunk_running_out_of_time_stops_between_writes_and_the_retry_finishes_it(service, aggregates):
    records = hundred_inserts()
    left = iter([60_000] * 4 + [1_000])

    outcome = service.handle(batch(*records), time_left_ms=lambda: next(left))

    assert outcome.failures == [records[0]["dynamodb"]["SequenceNumber"]]
    assert len(aggregates.add_calls) == 3
    service.handle(batch(*copy.deepcopy(records)))
    assert aggregates.counts()[0] == 100 and aggregates.counts("store", "S00")[0] == 20


def test_the_journal_entry_expires_after_the_stream_retention(service, aggregates, clock):
    seen = []
    original = aggregates.open_chunk

    def spy(journal_id, records, last_event_id, expires_at):
        seen.append((journal_id, expires_at))
        return original(journal_id, records, last_event_id, expires_at)

    aggregates.open_chunk = spy
    service.handle(batch(*hundred_inserts()))

    ((journal_id, expires_at),) = seen
    assert len(journal_id) == 64
    assert (expires_at - clock.now()).days == 2
    assert json.dumps(journal_id)  # plain text, fit for a key


def test_marks_outlive_every_redelivery_the_event_source_allows(service):
    # A mark may be dropped once no record of its chunk can come back: the event source discards
    # records older than MaximumRecordAgeInSeconds, and must retry a crashed batch whole (no bisection).
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_Loader)
    source = template["Resources"]["ScoreFunction"]["Properties"]["Events"]["ResponseChanges"]["Properties"]
    max_age = source["MaximumRecordAgeInSeconds"]
    assert max_age > 0
    assert timedelta(seconds=max_age) <= MARK_LIFETIME - timedelta(minutes=30)
    assert source["BisectBatchOnFunctionError"] is False
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


class _Loader(yaml.SafeLoader):
    """Reads the template's intrinsic tags (!Ref, !GetAtt...) as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
