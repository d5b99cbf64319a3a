"""The web app's sign-in and session (npsloop.pages.session, npsloop.pages.tokens) with a fake identity provider.

The tokens are real RS256 JWTs signed by a key made here; the checks are the ones API Gateway's JWT
authorizer makes (signature by a published key, issuer, audience, token_use, expiry on the clock).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from npsloop.clock import ManualClock
from npsloop.domain.links import SigningKeys
from npsloop.pages.session import FLOW_COOKIE, SESSION_COOKIE, SignInFailed, WebAuthConfig, WebSignIn, safe_next
from npsloop.pages.tokens import InvalidToken, TokenRules, verify
from npsloop.ports import LinkKeyStore
from npsloop.ports.sign_in import IdentityProvider

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"
CLIENT = "app-client"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk(key, kid: str = "k1") -> dict:
    numbers = key.public_key().public_numbers()
    as_bytes = lambda v: v.to_bytes((v.bit_length() + 7) // 8, "big")  # noqa: E731
    return {
        "kid": kid,
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "n": b64(as_bytes(numbers.n)),
        "e": b64(as_bytes(numbers.e)),
    }


def token(key=KEY, kid="k1", alg="RS256", **overrides) -> str:
    claims = {"sub": "u-anna", "iss": ISSUER, "aud": CLIENT, "token_use": "id", "iat": int(NOW.timestamp()),
              "exp": int((NOW + timedelta(hours=1)).timestamp()), "cognito:groups": ["npsloop-store-KRK-02"],
              "email": "anna@example.com"}  # fmt: skip
    claims.update(overrides)
    head = b64(json.dumps({"alg": alg, "kid": kid}).encode())
    body = b64(json.dumps({k: v for k, v in claims.items() if v is not None}).encode())
    signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{b64(signature)}"


RULES = TokenRules(issuer=ISSUER, client_id=CLIENT)
KEYS = {"k1": jwk(KEY)}


def test_a_token_signed_by_the_issuers_key_with_the_right_claims_is_accepted():
    assert verify(token(), KEYS, RULES, NOW)["sub"] == "u-anna"


@pytest.mark.parametrize(
    ("made", "reason"),
    [
        (lambda: token(key=OTHER_KEY), "bad signature"),
        (lambda: token(kid="k2"), "does not publish"),
        (lambda: token(iss="https://evil.example.com"), "wrong issuer"),
        (lambda: token(aud="another-client"), "wrong audience"),
        (lambda: token(token_use="access"), "not an id token"),
        (lambda: token(exp=int(NOW.timestamp())), "expired"),
        (lambda: token(nbf=int((NOW + timedelta(minutes=1)).timestamp())), "nbf"),
        (lambda: token()[:-4] + "AAAA", "bad signature"),
        (lambda: b64(b'{"alg":"none","kid":"k1"}') + "." + token().split(".")[1] + ".", "unsupported alg"),
        (lambda: "not-a-token", "not a compact JWS"),
    ],
)
def test_every_other_token_is_refused_with_its_reason(made, reason):
    with pytest.raises(InvalidToken, match=reason):
        verify(made(), KEYS, RULES, NOW)


def test_an_hs256_token_keyed_with_the_public_key_is_refused():
    # the classic confusion: HMAC with the RSA public key as the secret must never pass
    import hmac

    head = b64(json.dumps({"alg": "HS256", "kid": "k1"}).encode())
    body = token().split(".")[1]
    signature = hmac.new(json.dumps(KEYS["k1"]).encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken, match="unsupported alg"):
        verify(f"{head}.{body}.{b64(signature)}", KEYS, RULES, NOW)


@pytest.mark.parametrize(
    ("asked", "kept"),
    [("/cases/inv-1", "/cases/inv-1"), ("/cases?status=open", "/cases?status=open"), (None, "/cases"),
     ("/dashboard?store=KRK-02", "/dashboard?store=KRK-02"),
     ("https://evil.example.com/", "/cases"), ("//evil.example.com", "/cases"), ("/\\evil.example.com", "/cases"),
     ("/auth/sign-in", "/cases"), ("/cases\r\nSet-Cookie: x", "/cases")],
)  # fmt: skip
def test_after_sign_in_only_a_path_of_this_site_is_followed(asked, kept):
    assert safe_next(asked) == kept


class Keys(LinkKeyStore):
    def signing_keys(self) -> SigningKeys:
        return SigningKeys(current=b"k" * 32)


class FakeProvider(IdentityProvider):
    def __init__(self) -> None:
        self.exchanges: list[dict] = []
        self.issued = token()

    def signing_keys(self, *, refresh: bool = False):
        return KEYS

    def exchange_code(self, *, code, code_verifier, redirect_uri):
        self.exchanges.append({"code": code, "code_verifier": code_verifier, "redirect_uri": redirect_uri})
        return {"id_token": self.issued}


def sign_in(clock=None, provider=None, **landing) -> tuple[WebSignIn, FakeProvider, ManualClock]:
    provider = provider or FakeProvider()
    clock = clock or ManualClock(NOW)
    config = WebAuthConfig(issuer=ISSUER, client_id=CLIENT, hosted_ui_url="https://x.auth.eu-west-1.amazoncognito.com")
    return WebSignIn(config=config, provider=provider, keys=Keys(), clock=clock, **landing), provider, clock


CALLBACK = "https://feedback.example.com/auth/callback"


def test_the_flow_sends_a_pkce_challenge_and_exchanges_the_code_with_its_verifier():
    web, provider, _ = sign_in()
    url, flow = web.start("/cases/inv-1", CALLBACK)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith("https://x.auth.eu-west-1.amazoncognito.com/oauth2/authorize?")
    assert (query["response_type"], query["client_id"], query["redirect_uri"]) == ("code", CLIENT, CALLBACK)
    assert query["code_challenge_method"] == "S256"
    assert (flow.name, flow.path, flow.http_only, flow.secure, flow.same_site.value) == (
        FLOW_COOKIE,
        "/auth",
        True,
        True,
        "Lax",
    )

    target, session, cleared = web.finish(
        code="c1", state=query["state"], flow_cookie=flow.value, redirect_uri=CALLBACK
    )

    verifier = provider.exchanges[0]["code_verifier"]
    assert b64(hashlib.sha256(verifier.encode()).digest()) == query["code_challenge"]
    assert target == "/cases/inv-1"
    assert (session.name, session.value, session.http_only, session.secure, session.path) == (
        SESSION_COOKIE, provider.issued, True, True, "/")  # fmt: skip
    assert session.max_age == 3600 and cleared.max_age == 0
    who = web.session([f"{SESSION_COOKIE}={session.value}"])
    assert who is not None and who.groups == frozenset({"npsloop-store-KRK-02"})
    assert web.csrf_ok(who, who.csrf) and not web.csrf_ok(who, "x") and not web.csrf_ok(who, None)


@pytest.mark.parametrize(
    ("asked", "lands"), [(None, "/dashboard"), ("https://evil.example.com/", "/dashboard"), ("/cases/x", "/cases/x")]
)
def test_a_sign_in_that_asks_for_no_page_lands_where_the_persons_groups_say(asked, lands):
    seen = []

    def landing(subject: str, groups: frozenset[str]) -> str:
        seen.append((subject, groups))
        return "/dashboard"

    web, _, _ = sign_in(landing=landing)
    url, flow = web.start(asked, CALLBACK)
    state = parse_qs(urlsplit(url).query)["state"][0]

    target, _, _ = web.finish(code="c1", state=state, flow_cookie=flow.value, redirect_uri=CALLBACK)

    assert target == lands
    assert seen == ([] if asked == "/cases/x" else [("u-anna", frozenset({"npsloop-store-KRK-02"}))])


def test_a_callback_with_another_state_a_forged_cookie_or_too_late_is_refused():
    web, provider, clock = sign_in()
    _, flow = web.start(None, CALLBACK)
    state = parse_qs(urlsplit(web.start(None, CALLBACK)[0]).query)["state"][0]  # another sign-in's state
    with pytest.raises(SignInFailed, match="state"):
        web.finish(code="c", state=state, flow_cookie=flow.value, redirect_uri=CALLBACK)
    body, _, _sig = flow.value.partition(".")
    with pytest.raises(SignInFailed, match="no sign-in"):
        web.finish(code="c", state=state, flow_cookie=f"{body}.{b64(b'forged')}", redirect_uri=CALLBACK)
    url, flow = web.start(None, CALLBACK)
    clock.advance(timedelta(minutes=11))
    with pytest.raises(SignInFailed, match="too long"):
        web.finish(
            code="c", state=parse_qs(urlsplit(url).query)["state"][0], flow_cookie=flow.value, redirect_uri=CALLBACK
        )
    assert provider.exchanges == []  # no code was spent on a refused callback


def test_a_session_ends_when_its_token_expires_on_the_injected_clock():
    web, provider, clock = sign_in()
    cookie = [f"{SESSION_COOKIE}={provider.issued}"]
    assert web.session(cookie) is not None
    clock.advance(timedelta(hours=1))
    assert web.session(cookie) is None
    assert web.session([f"{SESSION_COOKIE}={token(aud='other')}"]) is None
