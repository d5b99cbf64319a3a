"""Stream records read as powertools' ``DynamoDBRecord`` reads them, without loading its data classes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from npsloop.changes import ChangeKind, UnreadableRecord, _plain, parse_change

IMAGE = {
    "pk": {"S": "INV#1"},
    "sk": {"S": "RESPONSE"},
    "score": {"N": "9"},
    "ratio": {"N": "0.25"},
    "big": {"N": "1230000000000000000000000000000000000000000"},  # 43 digits, 38 significant
    "vip": {"BOOL": True},
    "gone": {"NULL": True},
    "tags": {"SS": ["b", "a"]},
    "counts": {"NS": ["2", "1.5"]},
    "blob": {"B": "aGVsbG8="},
    "context": {"M": {"store": {"S": "KRK-02"}, "visits": {"L": [{"N": "1"}, {"S": "x"}]}}},
}


def _record(event_name: str = "MODIFY", **stream: object) -> dict:
    body = {
        "ApproximateCreationDateTime": 1795170900,
        "Keys": {"pk": IMAGE["pk"], "sk": IMAGE["sk"]},
        "NewImage": IMAGE,
        "OldImage": {**IMAGE, "score": {"N": "3"}},
        "SequenceNumber": "000000000000000000001",
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    return {"eventID": "e-1", "eventName": event_name, "dynamodb": {**body, **stream}}


def test_images_and_keys_are_what_powertools_stream_records_give_with_whole_numbers_as_int():
    record = _record()
    stream = DynamoDBRecord(record).dynamodb

    change = parse_change(record)

    assert change.kind is ChangeKind.MODIFY
    assert change.sequence_number == "000000000000000000001"
    assert change.approximate_at == datetime(2026, 11, 20, 10, 35, tzinfo=UTC)
    assert change.new == _plain(stream.new_image)  # powertools' images, whole Decimals as int
    assert change.old["score"] == 3
    assert change.keys == {"pk": "INV#1", "sk": "RESPONSE"}
    assert change.new["score"] == 9
    assert change.new["ratio"] == 0.25
    assert change.new["counts"] == [1.5, 2]
    assert change.new["tags"] == ["a", "b"]
    assert change.new["blob"] == "aGVsbG8="
    assert change.new["context"] == {"store": "KRK-02", "visits": [1, "x"]}
    assert change.new["gone"] is None


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"eventName": "INSERT"}, "no dynamodb section"),
        (_record(SequenceNumber=None), "no sequence number"),
        (_record("INSERT", NewImage=None), "INSERT without NewImage"),
        (_record("REMOVE", OldImage={}), "REMOVE without OldImage"),
        ({"eventName": "INSERT", "dynamodb": "not an object"}, "AttributeError"),
        (_record("UPSERT"), "ValueError"),
        (_record(NewImage={"score": {"X": "1"}}), "TypeError"),
    ],
)
def test_a_record_that_cannot_be_read_says_why(record, reason):
    with pytest.raises(UnreadableRecord, match=reason):
        parse_change(record)
