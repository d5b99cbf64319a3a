"""The export bucket: one put per object, overwriting a redelivered batch's earlier copy."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from npsloop.ports.export import ExportSink, ExportWriteFailed


class S3Export(ExportSink):
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self._bucket = bucket
        self._client = client or boto3.client("s3")

    def put(self, key: str, body: bytes) -> None:
        try:
            self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="application/gzip")
        except (ClientError, BotoCoreError) as exc:
            raise ExportWriteFailed(f"{type(exc).__name__}: {exc}") from exc
