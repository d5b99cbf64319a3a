"""The pseudonymisation key, from the stack's Secrets Manager secret, cached across invocations."""

from __future__ import annotations

from npsloop.adapters.secret_json import CachedSecret
from npsloop.ports.export import PseudonymKeyStore


class SecretPseudonymKey(PseudonymKeyStore):
    """Reads {"key": ...}. Changing the key changes every pseudonym: rotate it only with a re-export."""

    def __init__(self, secret_id: str, secret: CachedSecret | None = None) -> None:
        self._secret_id = secret_id
        self._secret = secret or CachedSecret(secret_id)

    def pseudonym_key(self) -> bytes:
        value = self._secret.value()
        key = value.get("key") if isinstance(value, dict) else None
        if not key:
            raise ValueError(f"the secret {self._secret_id} has no 'key'")
        return str(key).encode()
