"""A function's dead-letter queue used as a parking lot for input that can never be processed.

SQS takes at most 256 KiB per message (body and attributes, in UTF-8 bytes; a queue may allow
more, never less than we aim for). An event is parked as compact JSON; if it is still too large,
its body goes to the parking bucket under ``parked/<function>/`` and the message carries a
pointer (bucket, key, size and the reason), so nothing is lost. The key is the body's SHA-256:
no personal data, and parking the same event again (at-least-once delivery) writes the same object.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import boto3

from npsloop.ports import EventParking

MAX_MESSAGE_BYTES = 256 * 1024
MAX_REASON = 1000
_ATTRIBUTE_ROOM = 1024  # for the body_location attribute a pointer adds


class ParkingTooLarge(Exception):
    """An event too large for the queue and no parking bucket to hold its body."""


class ParkingQueue(EventParking):
    def __init__(
        self,
        queue_url: str,
        client: Any | None = None,
        parked_by: str = "npsloop-invite",
        bucket: str | None = None,
        s3_client: Any | None = None,
    ) -> None:
        self._queue_url = queue_url
        self._parked_by = parked_by
        self._client = client or boto3.client("sqs")
        self._bucket = bucket
        self._s3 = s3_client

    @property
    def prefix(self) -> str:
        """Where this function's oversized bodies go (its IAM policy allows only this prefix)."""
        return f"parked/{self._parked_by.removeprefix('npsloop-')}/"

    def park(self, event: Any, reason: str) -> None:
        reason = reason[:MAX_REASON]
        body = json.dumps(event, default=str, separators=(",", ":"))
        attributes = {
            "reason": {"DataType": "String", "StringValue": reason},
            "parked_by": {"DataType": "String", "StringValue": self._parked_by},
        }
        size = len(body.encode("utf-8", "surrogatepass"))
        if size + _attributes_size(attributes) > MAX_MESSAGE_BYTES:
            body, location = self._offload(body, size, reason)
            attributes["body_location"] = {"DataType": "String", "StringValue": location}
        self._client.send_message(QueueUrl=self._queue_url, MessageBody=body, MessageAttributes=attributes)

    def _offload(self, body: str, size: int, reason: str) -> tuple[str, str]:
        if not self._bucket:
            raise ParkingTooLarge(f"a parked event of {size} bytes needs PARKING_BUCKET")
        data = body.encode("utf-8", "surrogatepass")
        key = f"{self.prefix}{hashlib.sha256(data).hexdigest()}.json"
        s3 = self._s3 or boto3.client("s3")
        s3.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType="application/json")
        pointer = {
            "parked_body": {"bucket": self._bucket, "key": key, "bytes": size},
            "reason": reason,
            "why_in_s3": f"the event is {size} bytes, over the {MAX_MESSAGE_BYTES} bytes an SQS message may hold",
        }
        return json.dumps(pointer, separators=(",", ":")), f"s3://{self._bucket}/{key}"


def _attributes_size(attributes: dict[str, dict[str, str]]) -> int:
    return (
        sum(
            len(name) + sum(len(value.encode("utf-8", "surrogatepass")) for value in attribute.values())
            for name, attribute in attributes.items()
        )
        + _ATTRIBUTE_ROOM
    )
