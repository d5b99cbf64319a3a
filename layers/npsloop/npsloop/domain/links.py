"""Signed, expiring links that carry no personal data.

A token is ``<invitation id>.<expiry, base36 epoch seconds>.<signature>``. The signature is an
HMAC-SHA256, truncated to 128 bits, over the purpose and the payload, so a response token is
useless as an unsubscribe token and the other way round. Verification accepts the current and
the previous key (rotation) and compares in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

_SIGNATURE_BYTES = 16
_ID_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz234567")
_TOKEN = re.compile(r"[a-z2-7]{1,64}\.[0-9a-z]{1,13}\.[A-Za-z0-9_-]{22}")


class LinkPurpose(StrEnum):
    RESPOND = "respond"
    UNSUBSCRIBE = "unsubscribe"
    REPORT_STOP = "report-stop"  # a scheduled report's one-click "stop sending me this" (npsloop.domain.reports)


@dataclass(frozen=True)
class SigningKeys:
    current: bytes
    previous: bytes | None = None

    def __post_init__(self) -> None:
        if len(self.current) < 32:
            raise ValueError("the current link-signing key must be at least 32 bytes")

    def all(self) -> tuple[bytes, ...]:
        return (self.current, self.previous) if self.previous else (self.current,)


class InvalidLink(Exception):
    """The token is malformed or its signature does not verify (tampered, or unknown key)."""


class ExpiredLink(Exception):
    """The token verified, but its expiry has passed."""


@dataclass(frozen=True)
class LinkClaims:
    invitation_id: str
    expires_at: datetime


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
    return out or "0"


def _signature(key: bytes, purpose: LinkPurpose, payload: str) -> str:
    mac = hmac.new(key, f"npsloop/{purpose.value}/{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:_SIGNATURE_BYTES]).rstrip(b"=").decode()


def sign(keys: SigningKeys, purpose: LinkPurpose, invitation_id: str, expires_at: datetime) -> str:
    if not invitation_id or set(invitation_id) - _ID_ALPHABET:
        raise ValueError("invitation ids are lower-case base32")
    payload = f"{invitation_id}.{_b36(int(expires_at.timestamp()))}"
    return f"{payload}.{_signature(keys.current, purpose, payload)}"


def verify(keys: SigningKeys, purpose: LinkPurpose, token: str, now: datetime) -> LinkClaims:
    if not _TOKEN.fullmatch(token):  # also keeps non-ASCII out of compare_digest, which would raise
        raise InvalidLink("malformed token")
    invitation_id, expiry, signature = token.split(".")
    payload = f"{invitation_id}.{expiry}"
    # Check every key, always, so timing does not reveal which one matched.
    matched = False
    for key in keys.all():
        matched |= hmac.compare_digest(_signature(key, purpose, payload), signature)
    if not matched:
        raise InvalidLink("signature does not verify")
    try:
        expires_at = datetime.fromtimestamp(int(expiry, 36), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise InvalidLink("malformed expiry") from exc
    if now >= expires_at:
        raise ExpiredLink(f"link expired at {expires_at.isoformat()}")
    return LinkClaims(invitation_id=invitation_id, expires_at=expires_at)


def default_expiry(now: datetime, days: int = 30) -> datetime:
    return now + timedelta(days=days)
