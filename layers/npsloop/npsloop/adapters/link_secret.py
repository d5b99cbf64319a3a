"""The link-signing keys, from the stack's Secrets Manager secret, cached across invocations."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from npsloop.domain.links import SigningKeys
from npsloop.ports import LinkKeyStore

CACHE_SECONDS = 300


class SecretLinkKeys(LinkKeyStore):
    """Reads {"current": ..., "previous": ...}; rotate by moving current to previous and setting a new current."""

    def __init__(self, secret_id: str, provider: SecretsProvider | None = None) -> None:
        self._secret_id = secret_id
        self._provider = provider or SecretsProvider()

    def signing_keys(self) -> SigningKeys:
        value: Any = self._provider.get(self._secret_id, max_age=CACHE_SECONDS, transform="json")
        previous = value.get("previous") or None
        return SigningKeys(
            current=str(value["current"]).encode(), previous=str(previous).encode() if previous else None
        )
