"""Signed paging cursors: the API hands out where a list stopped, and takes back only what it gave.

A cursor is ``<payload>.<signature>``: the payload is the URL-safe base64 of the store's start key
(JSON, string values), the signature an HMAC-SHA256 (128 bits) over the query the cursor belongs to
and the payload. The key is derived from the link-signing key with a label (HMAC of the label under
that key), so the stack has one secret and a link signature can never pass as a cursor's. The
current and the previous key verify (rotation). Anything else - random bytes, a truncated or
re-signed cursor, valid base64 of other JSON, a cursor of another query - is ``InvalidCursor``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from npsloop.domain.links import SigningKeys

CURSOR_LABEL = b"npsloop:case-list-cursor:v1"
_SIGNATURE_BYTES = 16


class InvalidCursor(ValueError):
    """Not a cursor this API gave out for this query."""


def _key(link_key: bytes) -> bytes:
    return hmac.new(link_key, CURSOR_LABEL, hashlib.sha256).digest()


def _signature(key: bytes, scope: str, payload: str) -> bytes:
    message = json.dumps([scope, payload]).encode()
    return hmac.new(_key(key), message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_cursor(keys: SigningKeys, scope: str, start: dict[str, str] | None) -> str | None:
    """The cursor resuming the query ``scope`` at ``start`` (None: there is no next page)."""
    if not start:
        return None
    payload = _b64(json.dumps(start, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_b64(_signature(keys.current, scope, payload))}"


def open_cursor(keys: SigningKeys, scope: str, cursor: str) -> dict[str, str]:
    """The start key a cursor carries, if this API signed it for ``scope``; else ``InvalidCursor``."""
    payload, dot, signature_text = cursor.partition(".")
    if not dot or not payload or "." in signature_text:
        raise InvalidCursor("not a cursor this API gave out")
    try:
        signature = _unb64(signature_text)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("not a cursor this API gave out") from exc
    if not any(hmac.compare_digest(signature, _signature(key, scope, payload)) for key in keys.all()):
        raise InvalidCursor("not a cursor this API gave out for this query (altered, or from another query)")
    try:
        start: Any = json.loads(_unb64(payload))
    except (binascii.Error, ValueError) as exc:  # signed by us, so never; but never a 500 either
        raise InvalidCursor("not a cursor this API gave out") from exc
    if not isinstance(start, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in start.items()):
        raise InvalidCursor("not a cursor this API gave out")
    return start
