"""Amazon SQS: the scheduled reports' job queue (one message per recipient, sent ten at a time).

``SendMessageBatch`` takes up to 10 entries and 256 KiB a request; a job is about 600 bytes. An entry
SQS reports as failed is sent again (up to three rounds), then the batch raises: the planner's run
fails and its retry queues the jobs again, which the claims make harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import boto3

from npsloop.domain.reports import ReportJob
from npsloop.ports.reports import ReportQueue

BATCH = 10  # SQS's maximum entries per SendMessageBatch
ROUNDS = 3


class ReportQueueError(Exception):
    """Some jobs could not be queued after retries."""


class SqsReportQueue(ReportQueue):
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._url = queue_url
        self._client = client or boto3.client("sqs")

    def send(self, jobs: Sequence[ReportJob]) -> None:
        for start in range(0, len(jobs), BATCH):
            pending = {str(i): job.model_dump_json() for i, job in enumerate(jobs[start : start + BATCH])}
            for _ in range(ROUNDS):
                answer = self._client.send_message_batch(
                    QueueUrl=self._url,
                    Entries=[{"Id": entry_id, "MessageBody": body} for entry_id, body in pending.items()],
                )
                pending = {f["Id"]: pending[f["Id"]] for f in answer.get("Failed", [])}
                if not pending:
                    break
            if pending:
                raise ReportQueueError(f"{len(pending)} report jobs could not be queued")
