"""Amazon SNS: the alerts topic. Message attributes let subscribers filter (store, region, team, rule, kind)."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from npsloop.ports.cases import AlertTopic, PublishFailed, TopicMessage

MAX_SUBJECT = 100  # SNS: subjects are at most 100 characters, no line breaks


class SnsTopic(AlertTopic):
    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        self._topic_arn = topic_arn
        self._client = client or boto3.client("sns")

    def publish(self, message: TopicMessage) -> str:
        subject = " ".join(message.subject.split())[:MAX_SUBJECT]
        try:
            result = self._client.publish(
                TopicArn=self._topic_arn,
                Subject=subject,
                Message=json.dumps(message.body, ensure_ascii=False, default=str),
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in message.attributes.items()
                    if value  # SNS refuses empty attribute values
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise PublishFailed(f"sns publish: {type(exc).__name__}") from exc
        return str(result["MessageId"])
