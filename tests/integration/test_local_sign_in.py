"""The local hosted sign-in: authorisation code with PKCE (S256) on the stack's URL, tokens the API accepts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from npsloop_local.sign_in import s256
from tests.web_client import WebClient


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(_NoRedirect)


def fetch(url, form=None):
    data = urlencode(form).encode() if form is not None else None
    try:
        with OPENER.open(url, data=data, timeout=30) as reply:
            return reply.status, reply.headers, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def authorize(stack, verifier="v" * 50, persona="store-KRK-02"):
    client = stack.outputs["UserPoolClientId"]
    redirect = stack.sign_in.callback_url
    query = {"response_type": "code", "client_id": client, "redirect_uri": redirect, "state": "s1",
             "code_challenge": s256(verifier), "code_challenge_method": "S256", "scope": "openid"}  # fmt: skip
    status, headers, _ = fetch(f"{stack.base_url}/oauth2/authorize?{urlencode(query)}")
    assert status == 302 and headers["Location"].startswith("/login?")
    status, headers, _ = fetch(f"{stack.base_url}/login", {**query, "persona": persona})
    assert status == 302
    back = urlsplit(headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == redirect
    return client, redirect, dict(parse_qsl(back.query))


def test_the_code_is_exchanged_once_with_the_right_verifier_for_a_token_the_api_accepts(stack):
    client, redirect, answer = authorize(stack)
    assert answer["state"] == "s1"
    form = {"grant_type": "authorization_code", "client_id": client, "code": answer["code"], "redirect_uri": redirect}
    status, _, body = fetch(f"{stack.base_url}/oauth2/token", {**form, "code_verifier": "w" * 50})
    assert (status, json.loads(body)) == (400, {"error": "invalid_grant"})  # wrong verifier; the code is spent

    client, redirect, answer = authorize(stack)
    form = {**form, "code": answer["code"], "code_verifier": "v" * 50}
    status, _, body = fetch(f"{stack.base_url}/oauth2/token", form)
    assert status == 200
    tokens = json.loads(body)
    assert fetch(f"{stack.base_url}/oauth2/token", form)[0] == 400  # single use

    request = urllib.request.Request(f"{stack.base_url}/api/cases?store=KRK-02")
    for kind in ("id_token", "access_token"):
        request.add_header("Authorization", f"Bearer {tokens[kind]}")
        with urllib.request.urlopen(request, timeout=30) as reply:
            assert (reply.status, json.loads(reply.read())["cases"]) == (200, [])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"code_challenge_method": "plain"}, "PKCE is required"),
        ({"redirect_uri": "https://evil.example/cb"}, "redirect_uri"),
        ({"client_id": "other"}, "client_id"),
        ({"response_type": "token"}, "response_type"),
    ],
)
def test_the_authorize_endpoint_refuses_what_the_app_client_does_not_allow(stack, change, reason):
    query = {"response_type": "code", "client_id": stack.outputs["UserPoolClientId"],
             "redirect_uri": stack.sign_in.callback_url, "code_challenge": s256("v" * 50),
             "code_challenge_method": "S256", **change}  # fmt: skip
    status, _, body = fetch(f"{stack.base_url}/oauth2/authorize?{urlencode(query)}")
    assert status == 400 and reason in body


def test_a_persona_signed_in_with_nothing_in_scope_is_told_why_the_list_is_empty(stack):
    # GIVEN a fresh stack (no answers, no cases) and the web app's own sign-in through the local hosted UI
    browser = WebClient(stack.base_url)

    # WHEN the CX lead signs in as a persona
    page = browser.sign_in("cx-lead", start="/auth/sign-in?next=/cases")

    # THEN the case list says what is in scope and when cases appear, not an empty screen
    assert page.status == 200 and page.url.endswith("/cases")
    assert "No cases here." in page.body or "Brak spraw." in page.body
    assert "answer needs a follow-up." in page.body or "wymaga reakcji" in page.body


def test_a_sign_in_without_a_page_lands_on_the_dashboard_for_score_readers_and_on_cases_otherwise(stack):
    landings = {}
    for persona in ("cx-lead", "store-KRK-02", "owner-cx-desk"):
        browser = WebClient(stack.base_url)
        page = browser.sign_in(persona, start="/auth/sign-in")
        landings[persona] = (page.status, urlsplit(page.url).path)

    assert landings == {
        "cx-lead": (200, "/dashboard"),
        "store-KRK-02": (200, "/dashboard"),
        "owner-cx-desk": (200, "/cases"),  # a plain case owner reads no scores
    }
