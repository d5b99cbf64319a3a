"""Who is calling the JSON API: the claims API Gateway's JWT authorizer has already verified.

API Gateway rejects a request without a valid token (issuer, audience, expiry, signature) before
the function runs; locally the local stack does the same with a dev token. The function still
refuses a request that reaches it without claims: a route deployed without the authorizer must
fail closed, not open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError

ADMIN_GROUP = "npsloop-admin"


@dataclass(frozen=True)
class Caller:
    subject: str
    email: str | None
    groups: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups


def _groups(claims: Mapping[str, Any]) -> frozenset[str]:
    raw = claims.get("cognito:groups", claims.get("groups", ""))
    if isinstance(raw, list):
        return frozenset(str(group) for group in raw)
    # API Gateway passes array claims as "[a b]" or "a,b" strings.
    text = str(raw).strip().strip("[]")
    return frozenset(part for part in text.replace(",", " ").split() if part)


def claims_of(event: Any) -> Mapping[str, Any]:
    raw = getattr(event, "raw_event", event)
    try:
        claims = raw["requestContext"]["authorizer"]["jwt"]["claims"]
    except (KeyError, TypeError):
        return {}
    return claims if isinstance(claims, Mapping) else {}


def caller(event: Any) -> Caller:
    """The verified caller of this request; ``UnauthorizedError`` (401) when there are no claims."""
    claims = claims_of(event)
    subject = claims.get("sub")
    if not subject:
        raise UnauthorizedError("a bearer token is required")
    email = claims.get("email")
    return Caller(subject=str(subject), email=str(email) if email else None, groups=_groups(claims))
