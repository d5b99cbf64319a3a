"""A JSON secret from Secrets Manager (GetSecretValue), cached for five minutes per container.

Replaces powertools' parameters utility, whose import cost more than the rest of a handler's own
code (docs/decisions.md). The boto3 client is made on the first read, not when the adapter is built.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3

CACHE_SECONDS = 300


class CachedSecret:
    """The secret's JSON value, read again once it is ``max_age`` seconds old."""

    def __init__(
        self,
        secret_id: str,
        client: Any | None = None,
        max_age: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret_id = secret_id
        self._client = client
        self._max_age = max_age
        self._monotonic = monotonic
        self._value: Any = None
        self._read_at = 0.0

    def value(self) -> Any:
        now = self._monotonic()
        if self._value is None or now - self._read_at >= self._max_age:
            if self._client is None:
                self._client = boto3.client("secretsmanager")
            response = self._client.get_secret_value(SecretId=self._secret_id)
            self._value = json.loads(response["SecretString"])
            self._read_at = now
        return self._value
