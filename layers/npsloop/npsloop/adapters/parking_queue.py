"""A function's dead-letter queue used as a parking lot for input that can never be processed."""

from __future__ import annotations

import json
from typing import Any

import boto3

from npsloop.ports import EventParking


class ParkingQueue(EventParking):
    def __init__(self, queue_url: str, client: Any | None = None, parked_by: str = "npsloop-invite") -> None:
        self._queue_url = queue_url
        self._parked_by = parked_by
        self._client = client or boto3.client("sqs")

    def park(self, event: Any, reason: str) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=json.dumps(event, default=str),
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason[:1000]},
                "parked_by": {"DataType": "String", "StringValue": self._parked_by},
            },
        )
