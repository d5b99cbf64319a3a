"""The user pool's hosted sign-in, locally: OAuth 2.0 authorisation code with PKCE, and personas.

In AWS the app sends a person to the Cognito domain's ``/oauth2/authorize`` (``response_type=code``,
``client_id``, a registered ``redirect_uri``, ``state``, ``code_challenge`` with
``code_challenge_method=S256``); Cognito shows its ``/login`` page, then redirects to the
``redirect_uri`` with ``code`` and ``state``; the app exchanges the code at ``/oauth2/token``
(``grant_type=authorization_code``, ``client_id``, ``code``, ``redirect_uri``, ``code_verifier``;
a form post) for ``id_token``, ``access_token``, ``expires_in`` and ``token_type``. The code is
single-use and short-lived, and the verifier's SHA-256 (base64url, no padding) must equal the
challenge, or the answer is 400 ``{"error": "invalid_grant"}``.

The local stack answers the same endpoints on its own URL, so an app's sign-in code is the same for
both; the only difference is the ``/login`` page: instead of a password, a developer picks a
persona built from routing.toml's people (a store manager per ``[[store]]``, a regional manager
per ``[[region]]``, the case owners, a CX lead, an analyst, an admin). Tokens are dev tokens
(:mod:`.auth`) with the user pool's issuer and the app client's id, as the template resolves them.

Tokens from ``/oauth2/token`` are RS256, signed by the local issuer's key and published at
``/.well-known/jwks.json`` (:func:`.auth.jwks`), so the web function verifies them with the same
code as Cognito's. ``/logout`` ends nothing (there is no hosted session locally) and returns to a
registered ``logout_uri``. ``local_endpoints`` points a function's sign-in variables (the hosted
UI's ``https://<domain>.auth.<region>.amazoncognito.com`` and the pool's JWKS URL) at this stack.

``/auth/sign-in`` and ``/auth/callback`` play the app's side for a template without the web
function (tests' small templates): they show the persona's token and what it can see. A template
route on the same path wins: with npsloop's template, the web function answers them.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import auth

__all__ = ["Persona", "SignIn", "local_endpoints", "personas_from_routing", "s256"]

CODE_TTL = timedelta(minutes=5)  # Cognito's authorisation codes are valid for 5 minutes
TOKEN_TTL = timedelta(hours=1)  # the template's IdTokenValidity / AccessTokenValidity
Reply = tuple[int, list[tuple[str, str]], bytes]


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636 4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class Persona:
    key: str
    label_pl: str
    label_en: str
    subject: str
    email: str | None
    groups: tuple[str, ...]
    kind: str  # lead | analyst | admin | region | store | owner


def personas_from_routing(routing: Any) -> list[Persona]:
    """Who a developer can sign in as: the people of routing.toml, each with the groups of their role."""
    lead = routing.fallback.manager
    people = [
        Persona("cx-lead", "CX lead (cała sieć)", "CX lead (whole network)",
                lead.id, lead.email, ("npsloop-cx-lead",), "lead"),
        Persona("analyst", "Analityk (wyniki, bez danych osobowych)", "Analyst (scores, no personal data)",
                "u-analyst", "analyst@example.com", ("npsloop-analyst",), "analyst"),
        Persona("admin", "Administrator", "Admin", "u-admin", "admin@example.com", ("npsloop-admin",), "admin"),
    ]  # fmt: skip
    for region in routing.region:
        boss = region.manager or routing.fallback.manager
        people.append(
            Persona(f"region-{region.id}", f"Kierownik regionu {region.id}", f"Regional manager {region.id}",
                    boss.id, boss.email, (f"npsloop-region-{region.id}",), "region")
        )  # fmt: skip
    for store in routing.store:
        owner = store.owner or routing.fallback.owner
        people.append(
            Persona(f"store-{store.id}", f"Kierownik sklepu {store.id}", f"Store manager {store.id}",
                    owner.id, owner.email, (f"npsloop-store-{store.id}",), "store")
        )  # fmt: skip
    taken = {p.subject for p in people}
    owners = [routing.fallback.owner, *(r.owner for r in routing.region if r.owner)]
    for owner in owners:
        if owner.id not in taken:
            taken.add(owner.id)
            people.append(
                Persona(f"owner-{owner.id}", f"Opiekun spraw {owner.id}", f"Case owner {owner.id}",
                        owner.id, owner.email, (), "owner")
            )  # fmt: skip
    return people


@dataclass
class _Grant:
    persona: Persona
    client_id: str
    redirect_uri: str
    challenge: str
    expires: datetime


@dataclass
class SignIn:
    """The hosted sign-in of one user pool client, and a minimal app that uses it."""

    issuer: str
    client_id: str
    callback_urls: tuple[str, ...]
    personas: list[Persona]
    now: Callable[[], datetime]
    base_url: str
    probe: Callable[[str, str], tuple[int, Any]] | None = None
    """Calls a JSON route with a token (path, token) -> (status, body): what the persona can see."""
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _verifiers: dict[str, str] = field(default_factory=dict)  # the app's side: state -> verifier
    _lock: threading.Lock = field(default_factory=threading.Lock)

    logout_urls: tuple[str, ...] = ()
    notice: str | None = None
    """Shown on the persona page, e.g. that the stack has no data yet and how to get some."""

    PATHS = frozenset(
        {"/oauth2/authorize", "/login", "/oauth2/token", "/logout", "/.well-known/jwks.json", "/auth/sign-in",
         "/auth/callback"}
    )  # fmt: skip

    @property
    def callback_url(self) -> str:
        return next((u for u in self.callback_urls if u.startswith(self.base_url)), self.callback_urls[0])

    def sign_in_url(self) -> str:
        return f"{self.base_url}/auth/sign-in"

    # -- entry -----------------------------------------------------------------------------------
    def respond(self, method: str, target: str, body: bytes) -> Reply | None:
        parts = urlsplit(target)
        if parts.path not in self.PATHS:
            return None
        query = dict(parse_qsl(parts.query))
        handlers: dict[tuple[str, str], Callable[[], Reply]] = {
            ("GET", "/oauth2/authorize"): lambda: self._authorize(query),
            ("GET", "/login"): lambda: self._login_page(query),
            ("POST", "/login"): lambda: self._login(dict(parse_qsl(body.decode("utf-8", "replace")))),
            ("POST", "/oauth2/token"): lambda: self._token(dict(parse_qsl(body.decode("utf-8", "replace")))),
            ("GET", "/logout"): lambda: self._logout(query),
            ("GET", "/.well-known/jwks.json"): lambda: _json(200, auth.jwks()),
            ("GET", "/auth/sign-in"): self._app_start,
            ("GET", "/auth/callback"): lambda: self._app_callback(query),
        }
        handler = handlers.get((method, parts.path))
        if handler is None:
            return _text(405, "method not allowed")
        return handler()

    # -- the hosted UI ---------------------------------------------------------------------------
    def _check_request(self, query: dict[str, str]) -> str | None:
        if query.get("client_id") != self.client_id:
            return "unknown client_id"
        if query.get("redirect_uri") not in self.callback_urls:
            return "redirect_uri is not a callback URL of the app client"
        if query.get("response_type") != "code":
            return "response_type must be code (the client allows the code flow only)"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return "PKCE is required: code_challenge with code_challenge_method=S256"
        return None

    def _logout(self, query: dict[str, str]) -> Reply:
        if query.get("client_id") != self.client_id:
            return _text(400, "unknown client_id")
        if query.get("logout_uri") not in self.logout_urls:
            return _text(400, "logout_uri is not a sign-out URL of the app client")
        return 302, [("Location", query["logout_uri"])], b""

    def _authorize(self, query: dict[str, str]) -> Reply:
        problem = self._check_request(query)
        if problem:
            return _text(400, problem)
        return 302, [("Location", f"/login?{urlencode(query)}")], b""

    def _login_page(self, query: dict[str, str], error: str | None = None) -> Reply:
        problem = self._check_request(query)
        if problem:
            return _text(400, problem)
        return (
            200,
            [("Content-Type", "text/html; charset=utf-8")],
            _page(self.personas, query, error, self.notice).encode(),
        )

    def _login(self, form: dict[str, str]) -> Reply:
        query = {k: v for k, v in form.items() if k != "persona"}
        problem = self._check_request(query)
        if problem:
            return _text(400, problem)
        persona = next((p for p in self.personas if p.key == form.get("persona")), None)
        if persona is None:
            return self._login_page(query, error="Wybierz osobę. / Pick a persona.")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(
                persona, query["client_id"], query["redirect_uri"], query["code_challenge"], self.now() + CODE_TTL
            )
        params = {"code": code, **({"state": query["state"]} if "state" in query else {})}
        return 302, [("Location", f"{query['redirect_uri']}?{urlencode(params)}")], b""

    def _token(self, form: dict[str, str]) -> Reply:
        if form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != self.client_id:
            return _json(400, {"error": "invalid_client"})
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use, even when refused
        verifier = form.get("code_verifier", "")
        if (
            grant is None
            or grant.expires <= self.now()
            or grant.client_id != form.get("client_id")
            or grant.redirect_uri != form.get("redirect_uri")
            or not verifier
            or not secrets.compare_digest(s256(verifier), grant.challenge)
        ):
            return _json(400, {"error": "invalid_grant"})
        return _json(200, self.tokens(grant.persona))

    def tokens(self, persona: Persona) -> dict[str, Any]:
        """What Cognito's token endpoint returns: an ID token (aud) and an access token (client_id)."""
        now = self.now()
        groups = persona.groups
        id_token = auth.dev_token(
            persona.subject, persona.email, groups, issuer=self.issuer, audience=self.client_id, ttl=TOKEN_TTL, now=now,
            signed_by_issuer=True,
        )  # fmt: skip
        access = auth.dev_token(
            persona.subject, None, groups, issuer=self.issuer, audience=None, ttl=TOKEN_TTL, now=now,
            extra_claims={"token_use": "access", "scope": "openid email profile", "client_id": self.client_id},
            signed_by_issuer=True,
        )  # fmt: skip
        return {
            "id_token": id_token,
            "access_token": access,
            "expires_in": int(TOKEN_TTL.total_seconds()),
            "token_type": "Bearer",
        }

    # -- the app's side --------------------------------------------------------------------------
    def _app_start(self) -> Reply:
        verifier = secrets.token_urlsafe(48)
        state = secrets.token_urlsafe(16)
        with self._lock:
            self._verifiers[state] = verifier
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.callback_url,
            "scope": "openid email profile",
            "state": state,
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        }
        return 302, [("Location", f"/oauth2/authorize?{urlencode(query)}")], b""

    def _app_callback(self, query: dict[str, str]) -> Reply:
        with self._lock:
            verifier = self._verifiers.pop(query.get("state", ""), None)
        if verifier is None or "code" not in query:
            return _text(400, "unknown or reused state: start again at /auth/sign-in")
        form = {
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "code": query["code"],
            "redirect_uri": self.callback_url,
            "code_verifier": verifier,
        }
        status, _headers, body = self._token(form)  # the token endpoint, as the app would call it
        if status != 200:
            return _text(400, f"the code exchange failed: {body.decode()}")
        tokens = json.loads(body)
        claims = auth.decode(tokens["id_token"])
        groups = list(claims.get("cognito:groups", []))
        persona = next(p for p in self.personas if p.subject == claims["sub"] and list(p.groups) == groups)
        seen = self._what_it_sees(tokens["id_token"])
        page = _signed_in_page(persona, tokens["id_token"], seen, self.base_url)
        return 200, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], page.encode()

    def _what_it_sees(self, token: str) -> list[tuple[str, int, str]]:
        if self.probe is None:
            return []
        seen = []
        for path in ("/api/cases?status=open&limit=100", "/api/programs/post-purchase-nps/scores?group_by=store"):
            status, body = self.probe(path, token)
            if status == 200 and "cases" in body:
                summary = f"{len(body['cases'])} open case(s) / otwartych spraw"
            elif status == 200:
                answers = sum(p.get("n", 0) for g in body.get("groups", []) for p in g.get("periods", []))
                stores = [g["value"] for g in body.get("groups", [])]
                summary = f"{answers} answer(s) this month in {', '.join(stores) or 'no store'}"
            else:
                summary = f"{status}: {body.get('message', '')}"
            seen.append((path, status, summary))
        return seen


_HOSTED_UI = re.compile(r"^https://[a-z0-9-]+\.auth\.[a-z0-9-]+\.amazoncognito\.com$")
_POOL_JWKS = re.compile(r"^https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/[\w-]+/\.well-known/jwks\.json$")


def local_endpoints(environment: Mapping[str, str], base_url: str) -> dict[str, str]:
    """The functions' environment with the user pool's sign-in URLs pointing at this stack (the hosted
    UI's domain, the pool's JWKS); the issuer itself stays as the template says (the tokens carry it)."""
    rewritten = {}
    for name, value in environment.items():
        if _HOSTED_UI.match(value):
            rewritten[name] = base_url
        elif _POOL_JWKS.match(value):
            rewritten[name] = f"{base_url}/.well-known/jwks.json"
        else:
            rewritten[name] = value
    return rewritten


def _text(status: int, message: str) -> Reply:
    return status, [("Content-Type", "text/plain; charset=utf-8")], message.encode()


def _json(status: int, body: Any) -> Reply:
    headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
    return status, headers, json.dumps(body).encode()


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1a1d21}
main{max-width:40rem;margin:0 auto;padding:1.25rem}
h1{font-size:1.5rem;margin:.5rem 0 0}
p.lead{color:#3d434b;margin:.25rem 0 1rem}
fieldset{border:1px solid #c9cdd3;border-radius:.5rem;background:#fff;margin:0 0 1rem;padding:.5rem 1rem}
legend{font-weight:600;padding:0 .25rem}
label{display:flex;gap:.75rem;align-items:center;padding:.6rem 0;border-bottom:1px solid #eceef1;cursor:pointer}
label:last-child{border-bottom:0}
input[type=radio]{width:1.25rem;height:1.25rem;flex:none}
.who{display:block;font-size:.85rem;color:#4a5059}
button{font:inherit;font-weight:600;background:#0b57d0;color:#fff;border:0;border-radius:.5rem;
padding:.8rem 1.5rem;min-height:44px;width:100%}
button:focus,input:focus{outline:3px solid #f5a623;outline-offset:2px}
.error{background:#fde8e8;color:#8a1c1c;border-radius:.5rem;padding:.75rem}
.note{font-size:.85rem;color:#4a5059}
.notice{background:#fff4d6;color:#3d2f00;border-radius:.5rem;padding:.75rem}
code,textarea{font-family:ui-monospace,Menlo,monospace;font-size:.8rem}
textarea{width:100%;box-sizing:border-box;height:6rem}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{border:1px solid #c9cdd3;padding:.4rem;text-align:left;vertical-align:top}
@media (min-width:48rem){main{padding:2rem}}
"""

GROUPS = [
    ("lead", "Cała sieć", "Whole network"),
    ("region", "Regiony", "Regions"),
    ("store", "Sklepy", "Stores"),
    ("owner", "Opiekunowie spraw", "Case owners"),
    ("analyst", "Analiza", "Analysis"),
    ("admin", "Administracja", "Administration"),
]


def _page(personas: list[Persona], query: dict[str, str], error: str | None, notice: str | None = None) -> str:
    e = html.escape
    hidden = "".join(f'<input type="hidden" name="{e(k)}" value="{e(v)}">' for k, v in query.items())
    sets = []
    for kind, pl, en in GROUPS:
        rows = [
            f'<label for="p-{e(p.key)}">'
            f'<input type="radio" id="p-{e(p.key)}" name="persona" value="{e(p.key)}" required>'
            f'<span><span lang="pl">{e(p.label_pl)}</span> / {e(p.label_en)}'
            f'<span class="who">{e(p.subject)}{" · " + e(", ".join(p.groups)) if p.groups else ""}</span>'
            "</span></label>"
            for p in personas
            if p.kind == kind
        ]
        if rows:
            sets.append(f'<fieldset><legend><span lang="pl">{pl}</span> / {en}</legend>{"".join(rows)}</fieldset>')
    alert = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    note = f'<p class="notice" role="status">{e(notice)}</p>' if notice else ""
    return f"""<!doctype html>
<html lang="pl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Logowanie (lokalnie) / Sign in (local)</title><style>{STYLE}</style></head>
<body><main>
<h1>Zaloguj się jako… <span lang="en">/ Sign in as…</span></h1>
<p class="lead">Lokalny stos: wybierz osobę zamiast hasła. <span lang="en">Local stack: pick a persona
instead of a password. In AWS this page is the user pool's hosted sign-in.</span></p>
{note}{alert}
<form method="post" action="/login">{hidden}{"".join(sets)}
<button type="submit">Zaloguj / Sign in</button></form>
<p class="note">Tokeny są podpisane lokalnym kluczem i nigdy nie działają w AWS. <span lang="en">Tokens are
signed with a local key and are never valid in AWS.</span></p>
</main></body></html>"""


def _signed_in_page(persona: Persona, token: str, seen: list[tuple[str, int, str]], base_url: str) -> str:
    e = html.escape
    rows = "".join(f"<tr><td><code>{e(p)}</code></td><td>{st}</td><td>{e(s)}</td></tr>" for p, st, s in seen)
    nothing = all(st != 200 or summary.startswith("0 ") for _p, st, summary in seen)
    hint = (
        '<p class="error" role="status"><span lang="pl">Nie ma jeszcze danych w Twoim zakresie.</span> '
        "Nothing in your scope yet: run <code>make demo</code> (a network of stores with answers and cases), "
        "or put a business event on the bus (README, Local stack), then reload.</p>"
        if nothing
        else ""
    )
    groups = ", ".join(persona.groups) or "(none: case owner of your own cases)"
    return f"""<!doctype html>
<html lang="pl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Zalogowano / Signed in</title><style>{STYLE}</style></head>
<body><main>
<h1>Zalogowano <span lang="en">/ Signed in</span></h1>
<p class="lead">{e(persona.label_pl)} / {e(persona.label_en)} — <code>{e(persona.subject)}</code>,
groups: {e(groups)}</p>
{hint}
<table><caption>Co widzisz / What you can see</caption>
<tr><th>Route</th><th>Status</th><th>Answer</th></tr>{rows}</table>
<p><label for="token">ID token (1 h)</label></p>
<textarea id="token" readonly>{e(token)}</textarea>
<p class="note"><code>curl -H "Authorization: Bearer $TOKEN" {e(base_url)}/api/cases?status=open</code></p>
<p><a href="/auth/sign-in">Zaloguj jako ktoś inny / Sign in as someone else</a></p>
</main></body></html>"""
