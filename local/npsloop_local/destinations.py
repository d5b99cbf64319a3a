"""Deliver invocation records (async results, stream batch failures) to their destination ARN.

A destination is an SQS queue, an SNS topic, an EventBridge bus or another function, as in Lambda's
``DestinationConfig``. Queues, topics and buses live in moto; functions are submitted to the async
invoker. Lambda sends with the function's execution role, so ``authorize(function_arn, action,
destination_arn)`` is asked first (the local stack's IAM, :mod:`.iam`); a refusal raises, where
Lambda would drop the record and count a ``DestinationDeliveryFailures``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Destinations"]

log = logging.getLogger(__name__)

ACTIONS = {
    "sqs": "sqs:SendMessage",
    "sns": "sns:Publish",
    "events": "events:PutEvents",
    "lambda": "lambda:InvokeFunction",
}


@dataclass
class Destinations:
    """Sends a JSON record to a destination ARN."""

    client: Callable[[str], Any]
    invoke_function_async: Callable[[str, dict[str, Any]], None]
    authorize: Callable[[str, str, str], None] | None = None

    def send(self, arn: str, record: dict[str, Any], *, success: bool = False) -> None:
        service = arn.split(":")[2] if arn.startswith("arn:") else ""
        function_arn = str(record.get("requestContext", {}).get("functionArn", ""))
        if self.authorize is not None and service in ACTIONS:
            self.authorize(function_arn, ACTIONS[service], arn)
        body = json.dumps(record)
        if service == "sqs":
            self._send_to_queue(arn, body)
        elif service == "sns":
            self.client("sns").publish(TopicArn=arn, Message=body)
        elif service == "events":
            outcome = "Success" if success else "Failure"
            self.client("events").put_events(
                Entries=[
                    {
                        "EventBusName": arn,
                        "Source": "lambda",
                        "DetailType": f"Lambda Function Invocation Result - {outcome}",
                        "Detail": body,
                        "Resources": [record.get("requestContext", {}).get("functionArn", ""), arn],
                    }
                ]
            )
        elif service == "lambda":
            self.invoke_function_async(arn, record)
        else:
            raise ValueError(f"unsupported destination {arn!r}")
        log.info("sent invocation record to %s", arn)

    def _send_to_queue(self, arn: str, body: str) -> None:
        _, _, _, _, account, name = arn.split(":", 5)
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=body)
