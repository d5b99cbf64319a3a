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
ANALYST_GROUP = "npsloop-analyst"
SCORE_READERS = frozenset({ADMIN_GROUP, ANALYST_GROUP})


@dataclass(frozen=True)
class Caller:
    subject: str
    email: str | None
    groups: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups

    @property
    def may_read_scores(self) -> bool:
        """Scores span every store of a program: an explicit group until per-role scopes exist."""
        return not self.groups.isdisjoint(SCORE_READERS)


def _groups(claims: Mapping[str, Any]) -> frozenset[str]:
    """The caller's groups, each matched whole: never a substring or a word of a longer value.

    The HTTP API's JWT authorizer hands every claim to the function as a string; an array claim
    becomes its items joined by single spaces inside square brackets (``["a", "b"]`` -> ``"[a b]"``;
    Cognito group names contain no whitespace). So a value wrapped in brackets is that list, and any
    other string is one group named by the whole string. A JSON list (a test, or a future payload
    that keeps types) is taken item by item.
    """
    raw = claims.get("cognito:groups", claims.get("groups"))
    if raw is None:
        return frozenset()
    if isinstance(raw, list):
        return frozenset(str(group) for group in raw)
    text = str(raw)
    if len(text) >= 2 and text[0] == "[" and text[-1] == "]":
        return frozenset(part for part in text[1:-1].split(" ") if part)
    return frozenset({text}) if text else frozenset()


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
