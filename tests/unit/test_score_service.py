"""The score stream consumer with an in-memory aggregate store: coalescing, replay, failures, poison."""

from __future__ import annotations

import copy
import json

import pytest

from npsloop.domain.programs import load_programs
from npsloop.services.score import ScoreService
from tests.fakes import ListParking
from tests.fakes_score import InMemoryAggregates, record, response
from tests.stream_records import batch


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
    (written,) = aggregates.apply_calls  # one transaction for the whole batch
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
    assert {delta.n for delta in aggregates.apply_calls[-1].values()} == {0}
    assert {delta.commented for delta in aggregates.apply_calls[-1].values()} == {1}


def test_the_same_batch_twice_counts_once(service, aggregates):
    event = batch(*hundred_inserts())

    service.handle(event)
    replay = service.handle(copy.deepcopy(event))

    assert replay.replayed_chunks == 1 and replay.applied_chunks == 0
    assert aggregates.counts()[0] == 100


def test_a_batch_that_needs_several_transactions_is_chunked_in_record_order(aggregates, parking, clock):
    service = ScoreService(
        programs=load_programs(), aggregates=aggregates, parking=parking, clock=clock, max_updates=10
    )
    records = [record("INSERT", new=response(i, 9, store=f"S{i:02d}")) for i in range(20)]  # 3 shared + 1 per store

    outcome = service.handle(batch(*records))

    assert outcome.applied_chunks == 3  # 7 + 7 + 6 stores
    assert [len(call) for call in aggregates.apply_calls] == [10, 10, 9]
    assert aggregates.counts() == (20, {9: 20})


def test_a_failed_chunk_reports_its_first_record_and_stops_and_redelivery_counts_exactly(aggregates, parking, clock):
    service = ScoreService(
        programs=load_programs(), aggregates=aggregates, parking=parking, clock=clock, max_updates=10
    )
    records = [record("INSERT", new=response(i, 9, store=f"S{i:02d}")) for i in range(21)]  # chunks 0-6, 7-13, 14-20
    aggregates.fail_calls = {2}

    outcome = service.handle(batch(*records))

    assert outcome.response() == {"batchItemFailures": [{"itemIdentifier": records[7]["dynamodb"]["SequenceNumber"]}]}
    assert len(aggregates.apply_calls) == 2  # the third chunk was never tried
    assert aggregates.counts()[0] == 7

    # Lambda resumes from the reported record; then a whole-batch redelivery replays nothing twice.
    again = service.handle(batch(*copy.deepcopy(records[7:])))
    assert again.response() == {"batchItemFailures": []}
    assert aggregates.counts() == (21, {9: 21})
    service.handle(batch(*copy.deepcopy(records)))
    assert aggregates.counts() == (21, {9: 21})


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
    invitation = {"entity": "invitation", "invitation_id": "inv-1", "pk": "INV#inv-1", "sk": "INVITATION"}

    outcome = service.handle(batch(record("INSERT", new=invitation)))

    assert aggregates.apply_calls == [] and parking.parked == []
    assert outcome.unchanged == 1


def test_parking_that_fails_fails_the_chunk_before_anything_is_written(service, aggregates):
    class BrokenParking(ListParking):
        def park(self, event, reason):
            raise RuntimeError("sqs down")

    failing = ScoreService(programs=load_programs(), aggregates=aggregates, parking=BrokenParking(), clock=None)
    records = hundred_inserts()
    records[5]["dynamodb"]["NewImage"]["score"] = {"S": "ten"}

    outcome = failing.handle(batch(*records))

    assert outcome.failures == [records[0]["dynamodb"]["SequenceNumber"]]
    assert aggregates.apply_calls == []


def test_no_chunk_starts_without_time_left_for_it(service, aggregates):
    records = hundred_inserts()

    outcome = service.handle(batch(*records), time_left_ms=lambda: 1_000)

    assert outcome.failures == [records[0]["dynamodb"]["SequenceNumber"]]
    assert aggregates.apply_calls == []


def test_the_journal_entry_expires_after_the_stream_retention(service, aggregates, clock):
    seen = []
    original = aggregates.apply

    def spy(journal_id, updates, expires_at):
        seen.append((journal_id, expires_at))
        return original(journal_id, updates, expires_at)

    aggregates.apply = spy
    service.handle(batch(*hundred_inserts()))

    ((journal_id, expires_at),) = seen
    assert len(journal_id) == 64
    assert (expires_at - clock.now()).days == 2
    assert json.dumps(journal_id)  # plain text, fit for a key
