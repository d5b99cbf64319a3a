"""SQS event sources: Lambda polls a queue and invokes the function with batches of messages.

For each ``Type: SQS`` event the stack, as Lambda's poller, receives up to ``BatchSize`` messages
and invokes the function synchronously with Lambda's SQS event (``Records`` of ``messageId``,
``receiptHandle``, ``body``, ``attributes``, ``eventSource: aws:sqs``...). What happens next is
Lambda's:

- a successful invocation deletes the batch; with ``FunctionResponseTypes: [ReportBatchItemFailures]``
  it deletes all but the ``batchItemFailures`` it names (an unreadable answer fails the whole batch);
- a failed invocation (an exception) leaves the whole batch in the queue;
- a message left in the queue is visible again after the queue's ``VisibilityTimeout`` **on the
  injected clock** (``drain`` moves a manual clock there), and the queue's own ``RedrivePolicy``
  (applied by moto on the receive after ``maxReceiveCount``) moves it to the dead-letter queue.

The poller is the Lambda service's side: its calls are not the function's, so IAM does not check
them (the role still needs the poller's permissions in AWS, which SAM adds). Batches run one at a
time; ``ScalingConfig.MaximumConcurrency`` is read but one process has one environment per function.
moto keeps a received message hidden by its own (wall-clock) timer, so the poller receives with a
long visibility and makes a message visible again itself when the clock says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .clock import Clock
from .functions import LambdaFunction

__all__ = ["SqsEventSource"]

log = logging.getLogger(__name__)

HIDDEN_SECONDS = 12 * 3600  # moto's wall-clock hiding; the local clock decides when it shows again


@dataclass
class SqsEventSource:
    function: LambdaFunction
    queue_arn: str
    batch_size: int
    report_failures: bool
    sqs_client: Any
    clock: Clock
    region: str
    maximum_concurrency: int | None = None
    _url: str = ""
    _visibility: timedelta = timedelta(seconds=30)
    _hidden: dict[str, tuple[datetime, str]] = field(default_factory=dict)  # message id -> (visible at, receipt)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    invocations: int = 0

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]

    def start(self) -> None:
        account = self.queue_arn.split(":")[4]
        self._url = self.sqs_client.get_queue_url(QueueName=self.queue_name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        attributes = self.sqs_client.get_queue_attributes(QueueUrl=self._url, AttributeNames=["VisibilityTimeout"])
        self._visibility = timedelta(seconds=int(attributes["Attributes"]["VisibilityTimeout"]))

    def next_due(self) -> datetime | None:
        with self._lock:
            return min((due for due, _ in self._hidden.values()), default=None)

    def poll(self) -> int:
        """Run batches until the queue has no visible message; return how many batches ran."""
        with self._lock:
            self._reveal()
            batches = 0
            while True:
                messages = self.sqs_client.receive_message(
                    QueueUrl=self._url,
                    MaxNumberOfMessages=min(self.batch_size, 10),
                    VisibilityTimeout=HIDDEN_SECONDS,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                if not messages:
                    return batches
                self._run(messages)
                batches += 1

    def _reveal(self) -> None:
        now = self.clock.now()
        for message_id, (due, receipt) in list(self._hidden.items()):
            if due <= now:
                del self._hidden[message_id]
                self.sqs_client.change_message_visibility(
                    QueueUrl=self._url, ReceiptHandle=receipt, VisibilityTimeout=0
                )

    def _run(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [self._record(m) for m in messages]}
        self.invocations += 1
        outcome = self.function.call(event)
        ids = [m["MessageId"] for m in messages]
        if outcome.error is not None:
            failed = set(ids)
        elif self.report_failures:
            failed = _failures(outcome.result, set(ids))
        else:
            failed = set()
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.sqs_client.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        due = self.clock.now() + self._visibility
        for message in messages:
            if message["MessageId"] in failed:
                self._hidden[message["MessageId"]] = (due, message["ReceiptHandle"])
        if failed:
            name = self.function.logical_id
            log.info("%s: %d of %d messages failed; visible again at %s", name, len(failed), len(ids), due)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }


def _failures(result: Any, ids: set[str]) -> set[str]:
    """The ids a ``batchItemFailures`` answer names; an answer Lambda cannot read fails the whole batch."""
    if result is None:
        return set()
    try:
        answer = result if isinstance(result, dict) else json.loads(result)
        named = {item["itemIdentifier"] for item in answer.get("batchItemFailures") or []}
    except (TypeError, KeyError, ValueError):
        return ids
    return ids if not named <= ids else named
