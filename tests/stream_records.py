"""DynamoDB stream records as Lambda delivers them, for the stream consumers' tests (score, alert, export)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer

STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/npsloop-test/stream/2026-11-01T00:00:00.000"

_serializer = TypeSerializer()
_sequence = itertools.count(10**20)  # one counter: records of every test module stay in stream order


def marshal(document: Mapping[str, Any]) -> dict[str, Any]:
    """A plain image in DynamoDB JSON (numbers become N, absent values are left out)."""

    def convert(value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return Decimal(str(value))
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        return value

    return {k: _serializer.serialize(convert(v)) for k, v in document.items() if v is not None}


def lambda_record(
    kind: str,
    new: Mapping[str, Any] | None = None,
    old: Mapping[str, Any] | None = None,
    sequence: int | None = None,
) -> dict[str, Any]:
    """A NEW_AND_OLD_IMAGES record for plain images, with the next sequence number unless one is given."""
    number = str(next(_sequence) if sequence is None else sequence)
    image = new if new is not None else old or {}
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1_795_000_000.0,
        "Keys": marshal({"pk": image.get("pk", "INV#x"), "sk": image.get("sk", "RESPONSE")}),
        "SequenceNumber": number,
        "SizeBytes": 300,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        dynamodb["NewImage"] = marshal(new)
    if old is not None:
        dynamodb["OldImage"] = marshal(old)
    return {
        "eventID": f"evt-{number}",
        "eventName": kind,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": dynamodb,
        "eventSourceARN": STREAM_ARN,
    }


def batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def redeliver(stack: Any, function: str, records: list[dict[str, Any]]) -> list[Any]:
    """``records`` handed to ``function`` again, as its event source mapping hands them over; the replies.

    With a tumbling window (the score function's), that is a window of the records' shard: an
    invocation with them and a fresh state, then the window's final invocation with the state it returned.
    """
    (consumer,) = [c for c in stack.dispatcher.streams if c.function.logical_id == function]
    if not consumer.settings.tumbling_window_seconds:
        return [stack.invoke(function, batch(*records))]
    streams = stack.client("dynamodbstreams")
    (shard,) = streams.describe_stream(StreamArn=consumer.stream_arn)["StreamDescription"]["Shards"]
    window = {
        "window": {"start": "2026-11-20T09:00:00Z", "end": "2026-11-20T09:15:00Z"},
        "shardId": shard["ShardId"],
        "eventSourceARN": consumer.stream_arn,
        "isWindowTerminatedEarly": False,
    }
    first = stack.invoke(function, {"Records": records, **window, "state": {}, "isFinalInvokeForWindow": False})
    final = stack.invoke(function, {"Records": [], **window, "state": first["state"], "isFinalInvokeForWindow": True})
    return [first, final]
