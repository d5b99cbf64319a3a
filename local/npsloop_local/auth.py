"""The HTTP API's JWT authorizer, locally: dev tokens signed with a key that only this tool knows.

In AWS, a route with ``Auth: {Authorizer: <name>}`` naming a JWT authorizer of its API is guarded by
API Gateway: it takes the token from the ``IdentitySource`` (``$request.header.Authorization``, with
or without ``Bearer``), checks the signature against the issuer's JWKS, ``exp`` / ``nbf``, that
``iss`` equals ``JwtConfiguration.issuer`` and that ``aud`` (or ``client_id``) is one of
``JwtConfiguration.audience``; any failure answers 401 ``{"message":"Unauthorized"}`` and the
function never runs. On success the function sees the claims in
``requestContext.authorizer.jwt.claims`` (every value a string; arrays as ``[a b]``) and the
token's scopes in ``requestContext.authorizer.jwt.scopes`` (``null`` when it has none).

Locally the same checks run. The local hosted sign-in (:mod:`.sign_in`) issues RS256 tokens, signed
by the local issuer's RSA key (made once per process) and published at ``/.well-known/jwks.json``
(``jwks()``), as Cognito's are: the web pages verify them with the same code as on AWS. ``dev_token``
(tests, ``python -m npsloop_local token``) mints HS256 tokens under ``DEV_SIGNING_KEY``, a constant
published in this file, which only the local authorizer accepts (the pages accept RS256 only).
**A dev token is never valid in AWS**: API Gateway only accepts RS256/ES256 tokens signed by the
configured issuer's keys, which this key is not. Issuer and audience must match the
template's resolved ``JwtConfiguration`` (parameters ``JwtIssuer`` / ``JwtAudience``) to pass.
Expiry is checked against the stack's clock, so tests on a ``ManualClock`` mint tokens with
``now=clock.now()`` (``LocalStack.dev_token`` does).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "DEFAULT_AUDIENCE",
    "DEFAULT_ISSUER",
    "DEV_SIGNING_KEY",
    "InvalidToken",
    "JwtAuthorizer",
    "api_gateway_claims",
    "decode",
    "dev_token",
    "issuer_token",
    "jwks",
]

log = logging.getLogger(__name__)

DEV_SIGNING_KEY = b"npsloop-local-dev-signing-key: never valid in AWS (API Gateway only trusts the issuer's JWKS)"
"""HS256 key of local dev tokens. Public on purpose: it proves nothing outside this tool."""
DEFAULT_ISSUER = "https://auth.example.com/"
DEFAULT_AUDIENCE = "npsloop-api"
DEFAULT_TTL = timedelta(hours=12)
GROUPS_CLAIM = "cognito:groups"
CLOCK_SKEW = timedelta(seconds=0)


class InvalidToken(ValueError):
    """The request carries no token, or one API Gateway would refuse (the reason is for logs only)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def dev_token(  # noqa: PLR0917 - mirrors the claims a Cognito ID token carries
    subject: str,
    email: str | None = None,
    groups: Iterable[str] = (),
    issuer: str = DEFAULT_ISSUER,
    audience: str | None = DEFAULT_AUDIENCE,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
    extra_claims: Mapping[str, Any] | None = None,
    signed_by_issuer: bool = False,
) -> str:
    """A compact JWT (HS256 under ``DEV_SIGNING_KEY``; RS256 by the local issuer's key with
    ``signed_by_issuer``) shaped like a Cognito ID token (no ``aud`` when ``audience`` is None: an
    access token names its client in ``client_id``)."""
    issued = (now or datetime.now(UTC)).astimezone(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "iss": issuer,
        "token_use": "id",
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "jti": str(uuid.uuid4()),
    }
    if audience is not None:
        claims["aud"] = audience
    if email:
        claims["email"] = email
    group_list = list(groups)
    if group_list:
        claims[GROUPS_CLAIM] = group_list
    claims.update(extra_claims or {})
    if signed_by_issuer:
        return issuer_token(claims)
    header = {"alg": "HS256", "typ": "JWT", "kid": "npsloop-local-dev"}
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    signature = hmac.new(DEV_SIGNING_KEY, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


@functools.cache
def _issuer_key() -> Any:
    """The local issuer's RSA key (2048 bits), made on first use and kept for the process."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _int_b64(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def issuer_kid() -> str:
    numbers = _issuer_key().public_key().public_numbers()
    return _b64url(hashlib.sha256(f"{numbers.n}:{numbers.e}".encode()).digest()[:12])


def jwks() -> dict[str, Any]:
    """The local issuer's JWKS, shaped like Cognito's ``/.well-known/jwks.json``."""
    numbers = _issuer_key().public_key().public_numbers()
    key = {
        "alg": "RS256",
        "e": _int_b64(numbers.e),
        "kid": issuer_kid(),
        "kty": "RSA",
        "n": _int_b64(numbers.n),
        "use": "sig",
    }
    return {"keys": [key]}


def issuer_token(claims: Mapping[str, Any]) -> str:
    """``claims`` as an RS256 JWT signed by the local issuer's key (what the local hosted sign-in issues)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    header = {"alg": "RS256", "kid": issuer_kid(), "typ": "JWT"}
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(dict(claims)).encode())}"
    signature = _issuer_key().sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


def _verify_rs256(parts: list[str], header: Mapping[str, Any]) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    if header.get("kid") != issuer_kid():
        return False
    try:
        _issuer_key().public_key().verify(
            _b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def decode(token: str) -> dict[str, Any]:
    """The claims of a dev token (HS256) or a local issuer's token (RS256) whose signature is valid
    (nothing else is checked here)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a compact JWS")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except ValueError as error:
        raise InvalidToken(f"malformed token: {error}") from None
    if isinstance(header, dict) and header.get("alg") == "RS256":
        if not _verify_rs256(parts, header):
            raise InvalidToken("bad signature")
    elif not isinstance(header, dict) or header.get("alg") != "HS256":
        raise InvalidToken("unsupported alg (dev tokens are HS256, the local issuer's RS256)")
    else:
        expected = hmac.new(DEV_SIGNING_KEY, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(signature, expected):
            raise InvalidToken("bad signature")
    if not isinstance(claims, dict):
        raise InvalidToken("claims are not an object")
    return claims


def _claim_string(value: Any) -> str:
    """How API Gateway hands a claim to the function: strings as they are, arrays as ``[a b]``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + " ".join(_claim_string(item) for item in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def api_gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    return {name: _claim_string(value) for name, value in claims.items()}


def _scopes(claims: Mapping[str, Any]) -> list[str] | None:
    raw = claims.get("scope", claims.get("scp"))
    if raw is None:
        return None
    scopes = raw.split() if isinstance(raw, str) else [str(scope) for scope in raw]
    return scopes or None


@dataclass(frozen=True)
class JwtAuthorizer:
    """One ``Auth.Authorizers.<name>`` of an HTTP API with a ``JwtConfiguration``."""

    name: str
    issuer: str
    audiences: tuple[str, ...]
    header: str = "authorization"
    scopes: tuple[str, ...] = ()
    """The route's ``AuthorizationScopes``: the token needs one of them (none: any token)."""

    @classmethod
    def from_properties(cls, name: str, props: Mapping[str, Any]) -> JwtAuthorizer:
        config = props.get("JwtConfiguration") or {}
        audience = config.get("audience") or config.get("Audience") or []
        audiences = (audience,) if isinstance(audience, str) else tuple(str(a) for a in audience)
        return cls(
            name=name,
            issuer=str(config.get("issuer") or config.get("Issuer") or ""),
            audiences=audiences,
            header=_header_of(props.get("IdentitySource", "$request.header.Authorization")),
        )

    def with_scopes(self, scopes: Sequence[str] | None) -> JwtAuthorizer:
        return JwtAuthorizer(self.name, self.issuer, self.audiences, self.header, tuple(scopes or ()))

    def authorize(self, headers: Mapping[str, str], now: datetime) -> dict[str, Any]:
        """``requestContext.authorizer`` for a request with a valid token; ``InvalidToken`` otherwise."""
        raw = headers.get(self.header, "").strip()
        if not raw:
            raise InvalidToken(f"no {self.header} header")
        token = raw[7:].strip() if raw[:7].lower() == "bearer " else raw
        claims = decode(token)
        self._check_times(claims, now)
        if claims.get("iss") != self.issuer:
            raise InvalidToken("wrong issuer")
        if not self._audience_matches(claims):
            raise InvalidToken("wrong audience")
        scopes = _scopes(claims)
        if self.scopes and not set(self.scopes) & set(scopes or ()):
            raise InvalidToken("missing scope")
        return {"jwt": {"claims": api_gateway_claims(claims), "scopes": scopes}}

    def _audience_matches(self, claims: Mapping[str, Any]) -> bool:
        aud = claims["aud"] if "aud" in claims else claims.get("client_id")  # access tokens carry client_id
        token_audiences = {aud} if isinstance(aud, str) else {str(a) for a in aud or ()}
        return bool(token_audiences & set(self.audiences))

    @staticmethod
    def _check_times(claims: Mapping[str, Any], now: datetime) -> None:
        instant = now.timestamp()
        try:
            expires = float(claims["exp"])
        except (KeyError, TypeError, ValueError):
            raise InvalidToken("no valid exp") from None
        if expires <= instant - CLOCK_SKEW.total_seconds():
            raise InvalidToken("expired")
        not_before = claims.get("nbf")
        if not_before is not None and float(not_before) > instant + CLOCK_SKEW.total_seconds():
            raise InvalidToken("not yet valid")


def _header_of(identity_source: Any) -> str:
    source = identity_source[0] if isinstance(identity_source, list) and identity_source else identity_source
    text = str(source or "$request.header.Authorization")
    prefix = "$request.header."
    if not text.startswith(prefix):
        log.warning("identity source %s is not a header: the Authorization header is used locally", text)
        return "authorization"
    return text[len(prefix) :].lower()
