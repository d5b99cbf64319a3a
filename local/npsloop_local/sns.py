"""SNS event sources: a topic's messages reach the function as Lambda's SNS event.

moto cannot invoke a Lambda subscriber, but it delivers to SQS subscribers and applies filter
policies. So each ``Type: SNS`` event gets an internal queue subscribed to the topic (raw delivery
off, so the SNS envelope arrives; ``FilterPolicy`` / ``FilterPolicyScope`` passed as subscription
attributes so moto filters). ``poll`` drains that queue and invokes the function asynchronously
with ``{"Records": [{"EventSource": "aws:sns", ..., "Sns": {...}}]}``, one record per message as SNS
does.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .functions import LambdaFunction

__all__ = ["SnsSubscription", "lambda_sns_event"]

log = logging.getLogger(__name__)


def lambda_sns_event(envelope: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The Lambda event for one SNS notification (the JSON SNS sends to HTTP/SQS subscribers)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": envelope.get("Type", "Notification"),
                    "MessageId": envelope["MessageId"],
                    "TopicArn": envelope["TopicArn"],
                    "Subject": envelope.get("Subject"),
                    "Message": envelope["Message"],
                    "Timestamp": envelope["Timestamp"],
                    "SignatureVersion": envelope.get("SignatureVersion", "1"),
                    "Signature": envelope.get("Signature", ""),
                    "SigningCertUrl": envelope.get("SigningCertURL", ""),
                    "UnsubscribeUrl": envelope.get("UnsubscribeURL", ""),
                    "MessageAttributes": envelope.get("MessageAttributes") or {},
                },
            }
        ]
    }


@dataclass
class SnsSubscription:
    """One SNS event of a function, backed by an internal SQS queue in moto."""

    function: LambdaFunction
    topic_arn: str
    queue_name: str
    properties: dict[str, Any]
    sns_client: Any
    sqs_client: Any
    submit: Callable[[LambdaFunction, Any], None]
    take: Callable[[str], list[str] | None] | None = None
    """queue name -> bodies taken from moto's queue directly (:mod:`.moto_peek`); None: use the SQS API."""
    subscription_arn: str = ""
    _queue_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self._queue_url = self.sqs_client.create_queue(QueueName=self.queue_name)["QueueUrl"]
        queue_arn = self.sqs_client.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        attributes = {"RawMessageDelivery": "false"}
        if self.properties.get("FilterPolicy"):
            policy = self.properties["FilterPolicy"]
            attributes["FilterPolicy"] = policy if isinstance(policy, str) else json.dumps(policy)
        if self.properties.get("FilterPolicyScope"):
            attributes["FilterPolicyScope"] = str(self.properties["FilterPolicyScope"])
        self.subscription_arn = self.sns_client.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]

    def poll(self) -> int:
        """Hand every delivered notification to the async invoker; return how many."""
        with self._lock:
            bodies = self.take(self.queue_name) if self.take is not None else None
            if bodies is not None:
                for body in bodies:
                    self.submit(self.function, lambda_sns_event(json.loads(body), self.subscription_arn))
                return len(bodies)
            count = 0
            while True:
                messages = self.sqs_client.receive_message(
                    QueueUrl=self._queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30
                ).get("Messages", [])
                if not messages:
                    return count
                for message in messages:
                    envelope = json.loads(message["Body"])
                    self.submit(self.function, lambda_sns_event(envelope, self.subscription_arn))
                    self.sqs_client.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
                    count += 1
