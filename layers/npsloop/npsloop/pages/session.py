"""The web app's sign-in and session: OAuth 2.0 authorisation code with PKCE, then an ID-token cookie.

- ``GET /auth/sign-in?next=/cases/x``: a fresh PKCE verifier (S256 challenge) and ``state`` go into a
  short-lived signed cookie (HttpOnly, Secure, SameSite=Lax, path ``/auth``, 10 minutes), and the
  browser goes to the hosted sign-in's ``/oauth2/authorize``.
- ``GET /auth/callback?code&state``: the state must equal the cookie's (else 400: start again), the
  code is exchanged at the token endpoint with the verifier, the ID token is verified
  (``npsloop.pages.tokens``), and it becomes the session cookie (HttpOnly, Secure, SameSite=Lax,
  path ``/``, until the token expires); then the page asked for (``next``: a path of this site only),
  or, when none was, the landing page for the person's groups (``landing``: the web wiring sends people
  who read scores to the dashboard, everyone else to their cases).
- Every page verifies the session cookie's token again (signature, issuer, audience, ``token_use``,
  expiry on the injected clock): API Gateway's JWT authorizer only reads the Authorization header.
- Forms carry a CSRF token: an HMAC of the session's token under a key derived from the link-signing
  secret (label ``npsloop:csrf:v1``), so it changes with every sign-in and is never stored.

The flow cookie is signed (HMAC-SHA256) with a key derived the same way (label ``npsloop:sign-in:v1``),
so nobody can plant a verifier or a ``next``. No token is ever logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from npsloop.clock import Clock
from npsloop.domain.links import SigningKeys
from npsloop.pages.tokens import InvalidToken, TokenRules, unverified_header, verify
from npsloop.ports import LinkKeyStore
from npsloop.ports.sign_in import IdentityProvider

SESSION_COOKIE = "npsloop_session"
FLOW_COOKIE = "npsloop_sign_in"
FLOW_TTL = timedelta(minutes=10)
FLOW_LABEL = b"npsloop:sign-in:v1"
CSRF_LABEL = b"npsloop:csrf:v1"
SCOPES = "openid email profile"
MAX_NEXT = 512


class SignInFailed(Exception):
    """The callback cannot complete (unknown or reused state, a refused code): start again."""


@dataclass(frozen=True)
class WebAuthConfig:
    """Where the hosted sign-in is and who this app is (template.yaml: the web function's environment)."""

    issuer: str
    client_id: str
    hosted_ui_url: str  # https://<domain>.auth.<region>.amazoncognito.com (locally: the stack's URL)


@dataclass(frozen=True)
class Session:
    subject: str
    email: str | None
    groups: frozenset[str]
    expires_at: datetime
    csrf: str


def safe_next(value: str | None, fallback: str = "/cases") -> str:
    """A path of this site to return to after sign-in; anything else (another host, ``//x``, ``\\x``): ``fallback``."""
    if not value or len(value) > MAX_NEXT or not value.startswith("/") or value.startswith(("//", "/\\")):
        return fallback
    if any(ord(c) < 0x21 or c == "\\" for c in value) or value.startswith("/auth/"):
        return fallback
    return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derived(key: bytes, label: bytes) -> bytes:
    return hmac.new(key, label, hashlib.sha256).digest()


def seal(keys: SigningKeys, label: bytes, payload: Mapping[str, Any]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64(hmac.new(_derived(keys.current, label), body.encode(), hashlib.sha256).digest())}"


def unseal(keys: SigningKeys, label: bytes, value: str) -> dict[str, Any] | None:
    body, dot, signature = value.partition(".")
    if not dot or not body:
        return None
    try:
        given = _unb64(signature)
        if not any(
            hmac.compare_digest(given, hmac.new(_derived(k, label), body.encode(), hashlib.sha256).digest())
            for k in keys.all()
        ):
            return None
        payload = json.loads(_unb64(body))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    return payload if isinstance(payload, dict) else None


def csrf_token(keys: SigningKeys, session_token: str) -> str:
    digest = hashlib.sha256(session_token.encode()).digest()
    return _b64(hmac.new(_derived(keys.current, CSRF_LABEL), digest, hashlib.sha256).digest()[:18])


def cookie_value(cookies: Iterable[str], name: str) -> str | None:
    """The value of cookie ``name`` from the 2.0 event's ``cookies`` (``["a=1", "b=2"]``)."""
    for raw in cookies:
        key, sep, value = raw.strip().partition("=")
        if sep and key == name:
            return value
    return None


def _cookie(name: str, value: str, path: str, max_age: int) -> Cookie:
    return Cookie(name, value, path=path, secure=True, http_only=True, max_age=max_age, same_site=SameSite.LAX_MODE)


def _s256(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode("ascii")).digest())


def _groups(claims: Mapping[str, Any]) -> frozenset[str]:
    groups = claims.get("cognito:groups", claims.get("groups")) or []
    return frozenset(str(g) for g in ([groups] if isinstance(groups, str) else groups))


class WebSignIn:
    def __init__(
        self,
        *,
        config: WebAuthConfig,
        provider: IdentityProvider,
        keys: LinkKeyStore,
        clock: Clock,
        landing: Callable[[str, frozenset[str]], str] = lambda subject, groups: "/cases",
    ) -> None:
        self._config = config
        self._provider = provider
        self._keys = keys
        self._clock = clock
        self._landing = landing  # (subject, groups) -> the page after a sign-in that asked for none

    @property
    def _rules(self) -> TokenRules:
        return TokenRules(issuer=self._config.issuer, client_id=self._config.client_id)

    # -- the flow --------------------------------------------------------------------------------
    def start(self, next_path: str | None, redirect_uri: str) -> tuple[str, Cookie]:
        """The hosted sign-in URL to send the browser to, and the flow cookie to set."""
        verifier = secrets.token_urlsafe(48)
        state = secrets.token_urlsafe(24)
        expires = self._clock.now() + FLOW_TTL
        flow = seal(
            self._keys.signing_keys(),
            FLOW_LABEL,
            {"s": state, "v": verifier, "n": safe_next(next_path, fallback=""), "x": int(expires.timestamp())},
        )
        query = {
            "response_type": "code",
            "client_id": self._config.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "code_challenge": _s256(verifier),
            "code_challenge_method": "S256",
        }
        url = f"{self._config.hosted_ui_url}/oauth2/authorize?{urlencode(query)}"
        return url, _cookie(FLOW_COOKIE, flow, "/auth", int(FLOW_TTL.total_seconds()))

    def finish(
        self, *, code: str | None, state: str | None, flow_cookie: str | None, redirect_uri: str
    ) -> tuple[str, Cookie, Cookie]:
        """After the hosted sign-in: (the page to go to, the session cookie, the cleared flow cookie)."""
        keys = self._keys.signing_keys()
        flow = unseal(keys, FLOW_LABEL, flow_cookie) if flow_cookie else None
        if flow is None or not state or not code:
            raise SignInFailed("no sign-in in progress in this browser")
        if not hmac.compare_digest(str(flow.get("s")), state):
            raise SignInFailed("the state does not match this browser's sign-in")
        if int(flow.get("x", 0)) <= self._clock.now().timestamp():
            raise SignInFailed("the sign-in took too long")
        answer = self._provider.exchange_code(code=code, code_verifier=str(flow["v"]), redirect_uri=redirect_uri)
        token = str(answer["id_token"])
        claims = self._verify(token)
        max_age = max(int(float(claims["exp"]) - self._clock.now().timestamp()), 1)
        session = _cookie(SESSION_COOKIE, token, "/", max_age)
        target = safe_next(str(flow.get("n") or ""), fallback="") or self._landing(str(claims["sub"]), _groups(claims))
        return target, session, _cookie(FLOW_COOKIE, "", "/auth", 0)

    # -- every page ------------------------------------------------------------------------------
    def session(self, cookies: Iterable[str]) -> Session | None:
        """The verified session of this request, or None (no cookie, or a token that fails a check)."""
        token = cookie_value(cookies, SESSION_COOKIE)
        if not token:
            return None
        try:
            claims = self._verify(token)
        except InvalidToken:
            return None
        return Session(
            subject=str(claims["sub"]),
            email=str(claims["email"]) if claims.get("email") else None,
            groups=_groups(claims),
            expires_at=datetime.fromtimestamp(float(claims["exp"]), tz=self._clock.now().tzinfo),
            csrf=csrf_token(self._keys.signing_keys(), token),
        )

    def csrf_ok(self, session: Session, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(session.csrf, str(given))

    def sign_out(self, logout_uri: str) -> tuple[str, Cookie]:
        """The hosted sign-in's logout (it ends its own session too), and the cleared session cookie."""
        query = urlencode({"client_id": self._config.client_id, "logout_uri": logout_uri})
        return f"{self._config.hosted_ui_url}/logout?{query}", _cookie(SESSION_COOKIE, "", "/", 0)

    def _verify(self, token: str) -> dict[str, Any]:
        kid = str(unverified_header(token).get("kid"))
        keys = self._provider.signing_keys()
        if kid not in keys:
            keys = self._provider.signing_keys(refresh=True)  # the issuer may have rotated a key in
        return verify(token, keys, self._rules, self._clock.now())
