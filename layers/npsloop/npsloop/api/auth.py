"""Who is calling the JSON API: the claims API Gateway's JWT authorizer has already verified.

API Gateway rejects a request without a valid token (issuer, audience, expiry, signature) before
the function runs; locally the local stack does the same with a token of its sign-in page. The
function still refuses a request that reaches it without claims: a route deployed without the
authorizer must fail closed, not open. What a verified caller may then read is its ``Scope``
(``npsloop.domain.scope``, from its groups and config/roles.toml): ``scope`` builds it, every route
asks it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError

from npsloop.domain.scope import Scope, scope_of

ADMIN_GROUP = "npsloop-admin"


@dataclass(frozen=True)
class Caller:
    subject: str
    email: str | None
    groups: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups


def _groups(claims: Mapping[str, Any], *, typed: bool = False) -> frozenset[str]:
    """The caller's groups, each matched whole: never a substring or a word of a longer value.

    The HTTP API's JWT authorizer hands every claim to the function as a string; an array claim
    becomes its items joined by single spaces inside square brackets (``["a", "b"]`` -> ``"[a b]"``;
    Cognito group names contain no whitespace). So a value wrapped in brackets is that list, and any
    other string is one group named by the whole string. A JSON list is taken item by item. With
    ``typed`` (claims read from the token itself) a string is always one whole group.
    """
    raw = claims.get("cognito:groups", claims.get("groups"))
    if raw is None:
        return frozenset()
    if isinstance(raw, list):
        return frozenset(str(group) for group in raw)
    text = str(raw)
    if not typed and len(text) >= 2 and text[0] == "[" and text[-1] == "]":
        return frozenset(part for part in text[1:-1].split(" ") if part)
    return frozenset({text}) if text else frozenset()


def claims_of(event: Any) -> Mapping[str, Any]:
    raw = getattr(event, "raw_event", event)
    try:
        claims = raw["requestContext"]["authorizer"]["jwt"]["claims"]
    except (KeyError, TypeError):
        return {}
    return claims if isinstance(claims, Mapping) else {}


def typed_claims(event: Any, claims: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The claims with their JSON types, from the bearer token the authorizer verified.

    The authorizer's string form cannot tell the list claim ``["npsloop-admin"]`` from the string
    claim ``"[npsloop-admin]"``; the token itself can. API Gateway checked its signature, issuer,
    audience and expiry before the function ran, so its payload is read, not verified again; it is
    used only when it is the token those claims came from (same subject and issuer); None otherwise
    (an event that did not come through API Gateway), and the authorizer's strings are all there is.
    """
    raw = getattr(event, "raw_event", event)
    headers = (raw.get("headers") if isinstance(raw, Mapping) else None) or {}
    header = next((str(v) for k, v in headers.items() if str(k).lower() == "authorization"), "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or token.count(".") != 2:
        return None
    try:
        segment = token.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, TypeError):
        return None
    if not isinstance(payload, dict):
        return None
    if str(payload.get("sub")) != str(claims.get("sub")) or str(payload.get("iss")) != str(claims.get("iss")):
        return None
    return payload


def caller(event: Any) -> Caller:
    """The verified caller of this request; ``UnauthorizedError`` (401) when there are no claims."""
    claims = claims_of(event)
    subject = claims.get("sub")
    if not subject:
        raise UnauthorizedError("a bearer token is required")
    email = claims.get("email")
    typed = typed_claims(event, claims)
    groups = _groups(typed, typed=True) if typed is not None else _groups(claims)
    return Caller(subject=str(subject), email=str(email) if email else None, groups=groups)


def scope(event: Any) -> Scope:
    """What the verified caller of this request may read; ``UnauthorizedError`` (401) without claims."""
    from npsloop.wiring import container

    who = caller(event)
    return scope_of(who.subject, who.groups, container.roles(), container.routing())
