"""The link-signing keys, from the stack's Secrets Manager secret, cached across invocations."""

from __future__ import annotations

from npsloop.adapters.secret_json import CachedSecret
from npsloop.domain.links import SigningKeys
from npsloop.ports import LinkKeyStore


class SecretLinkKeys(LinkKeyStore):
    """Reads {"current": ..., "previous": ...}; rotate by moving current to previous and setting a new current."""

    def __init__(self, secret_id: str, secret: CachedSecret | None = None) -> None:
        self._secret = secret or CachedSecret(secret_id)

    def signing_keys(self) -> SigningKeys:
        value = self._secret.value()
        previous = value.get("previous") or None
        return SigningKeys(
            current=str(value["current"]).encode(), previous=str(previous).encode() if previous else None
        )
