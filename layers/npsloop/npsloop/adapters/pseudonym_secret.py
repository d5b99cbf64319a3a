"""The pseudonymisation key, from the stack's Secrets Manager secret, cached across invocations."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from npsloop.ports.export import PseudonymKeyStore

CACHE_SECONDS = 300


class SecretPseudonymKey(PseudonymKeyStore):
    """Reads {"key": ...}. Changing the key changes every pseudonym: rotate it only with a re-export."""

    def __init__(self, secret_id: str, provider: SecretsProvider | None = None) -> None:
        self._secret_id = secret_id
        self._provider = provider or SecretsProvider()

    def pseudonym_key(self) -> bytes:
        value: Any = self._provider.get(self._secret_id, max_age=CACHE_SECONDS, transform="json")
        key = value.get("key") if isinstance(value, dict) else None
        if not key:
            raise ValueError(f"the secret {self._secret_id} has no 'key'")
        return str(key).encode()
