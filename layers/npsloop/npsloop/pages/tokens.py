"""Verifying an OpenID Connect ID token the way API Gateway's JWT authorizer does, inside the function.

API Gateway's JWT authorizer reads only the ``Authorization`` header; a browser page carries its
token in a cookie, so the page verifies it itself: an RS256 signature by a key of the issuer's JWKS
(Cognito publishes ``https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json``),
``iss`` equal to the issuer, ``aud`` (an ID token) equal to the app client's id, ``token_use`` =
``id``, and ``exp`` (and ``nbf``, ``iat``) against the injected clock. Anything else is
``InvalidToken`` with the reason (for logs only: never the token).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

LEEWAY_SECONDS = 0  # Cognito and Lambda clocks are NTP-synced; API Gateway allows no skew either


class InvalidToken(ValueError):
    """Not a token this app accepts; the message says why (never the token itself)."""


@dataclass(frozen=True)
class TokenRules:
    issuer: str
    client_id: str
    token_use: str = "id"  # noqa: S105 - the claim's value, not a secret


def _b64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("malformed token") from exc


def _json(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64(segment))
    except ValueError as exc:
        raise InvalidToken("malformed token") from exc
    if not isinstance(value, dict):
        raise InvalidToken("malformed token")
    return value


def unverified_header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a compact JWS")
    return _json(parts[0])


def _rsa_key(jwk: Mapping[str, Any]) -> Any:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

    try:
        n = int.from_bytes(_b64(str(jwk["n"])), "big")
        e = int.from_bytes(_b64(str(jwk["e"])), "big")
    except KeyError as exc:
        raise InvalidToken("the issuer's key is not an RSA key") from exc
    return RSAPublicNumbers(e, n).public_key()


def verify(token: str, keys: Mapping[str, Mapping[str, Any]], rules: TokenRules, now: datetime) -> dict[str, Any]:
    """The claims of ``token`` if it passes every check; ``InvalidToken`` otherwise.

    ``keys`` is the issuer's JWKS by ``kid``. Only RS256 is accepted (what Cognito signs with): a
    token naming ``none``, ``HS256`` or any other algorithm is refused before any key is used.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    header = unverified_header(token)
    if header.get("alg") != "RS256":
        raise InvalidToken(f"unsupported alg {str(header.get('alg'))[:10]!r} (RS256 only)")
    jwk = keys.get(str(header.get("kid")))
    if jwk is None or jwk.get("kty") != "RSA" or jwk.get("alg", "RS256") != "RS256" or jwk.get("use", "sig") != "sig":
        raise InvalidToken("signed by a key the issuer does not publish")
    head, body, signature = token.split(".")
    try:
        _rsa_key(jwk).verify(_b64(signature), f"{head}.{body}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, UnicodeEncodeError) as exc:
        raise InvalidToken("bad signature") from exc
    claims = _json(body)
    check_claims(claims, rules, now)
    return claims


def check_claims(claims: Mapping[str, Any], rules: TokenRules, now: datetime) -> None:
    if claims.get("iss") != rules.issuer:
        raise InvalidToken("wrong issuer")
    audience = claims.get("aud")
    audiences = {audience} if isinstance(audience, str) else set(audience or ())
    if rules.client_id not in audiences:
        raise InvalidToken("wrong audience")
    if claims.get("token_use") != rules.token_use:
        raise InvalidToken(f"not an {rules.token_use} token")
    if not claims.get("sub"):
        raise InvalidToken("no subject")
    instant = now.timestamp()
    try:
        expires = float(claims["exp"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken("no valid exp") from exc
    if expires <= instant - LEEWAY_SECONDS:
        raise InvalidToken("expired")
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if value is not None and float(value) > instant + LEEWAY_SECONDS + (300 if name == "iat" else 0):
            raise InvalidToken(f"{name} is in the future")
