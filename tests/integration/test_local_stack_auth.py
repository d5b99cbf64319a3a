"""The local stack's JWT authorizer (npsloop_local.auth) on a fixture template (tests/fixtures/local_stack_auth/).

A guarded route answers 401 ``{"message":"Unauthorized"}`` without invoking its function unless the
request carries a dev token whose signature, expiry, issuer and audience API Gateway would accept;
the function then sees the claims where API Gateway puts them. The toy handler echoes its event.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from npsloop.clock import ManualClock
from npsloop_local import auth
from npsloop_local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "local_stack_auth" / "template.yaml"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ISSUER = "https://issuer.example.org/"
AUDIENCE = "fixture-api"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def stack(clock: ManualClock, tmp_path: Path) -> Iterator[LocalStack]:
    with LocalStack(FIXTURE, clock=clock, outbox_dir=tmp_path / "outbox") as running:
        yield running


def get(url: str, token: str | None = None, scheme: str = "Bearer ") -> tuple[int, Any]:
    headers = {"Authorization": f"{scheme}{token}"} if token is not None else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def calls(stack: LocalStack) -> list[Any]:
    return stack.handler_module("GuardedFunction").CALLS


def token(clock: ManualClock, **overrides: Any) -> str:
    arguments: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, "now": clock.now()}
    arguments.update(overrides)
    return auth.dev_token("user-1", **{"email": "ada@example.com", "groups": ["npsloop-admin", "cx"], **arguments})


def test_a_valid_token_reaches_the_function_with_its_claims_as_api_gateway_passes_them(stack, clock):
    # GIVEN a dev token for the template's issuer and audience
    # WHEN a guarded route is called with it
    status, event = get(f"{stack.base_url}/api/cases/c-1", token(clock))

    # THEN the function ran and sees string claims and null scopes under requestContext.authorizer.jwt
    assert status == 201
    jwt = event["requestContext"]["authorizer"]["jwt"]
    assert jwt["scopes"] is None
    claims = jwt["claims"]
    assert (claims["sub"], claims["email"], claims["iss"], claims["aud"]) == (
        "user-1",
        "ada@example.com",
        ISSUER,
        AUDIENCE,
    )
    assert claims["cognito:groups"] == "[npsloop-admin cx]"
    assert claims["exp"] == str(int((START + auth.DEFAULT_TTL).timestamp()))
    assert all(isinstance(value, str) for value in claims.values())
    assert len(calls(stack)) == 1


def test_the_token_may_come_without_the_bearer_prefix_and_for_any_configured_audience(stack, clock):
    # GIVEN a token for the second audience of the authorizer, sent bare
    status, _ = get(f"{stack.base_url}/api/cases/c-1", token(clock, audience="second-audience"), scheme="")

    # THEN it is accepted, as API Gateway accepts it
    assert status == 201


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("no token", lambda clock: None),
        ("garbage", lambda clock: "not-a-jwt"),
        ("expired", lambda clock: token(clock, now=clock.now() - timedelta(hours=2), ttl=timedelta(hours=1))),
        ("not yet valid", lambda clock: token(clock, extra_claims={"nbf": int(clock.now().timestamp()) + 600})),
        ("wrong issuer", lambda clock: token(clock, issuer="https://elsewhere.example.org/")),
        ("wrong audience", lambda clock: token(clock, audience="someone-else")),
        ("bad signature", lambda clock: token(clock)[:-4] + ("AAAA" if not token(clock).endswith("AAAA") else "BBBB")),
    ],
)
def test_an_invalid_token_gets_401_and_the_function_is_not_invoked(stack, clock, case, make):
    # GIVEN a request whose token API Gateway would refuse
    # WHEN it reaches a guarded route
    status, body = get(f"{stack.base_url}/api/cases/c-1", make(clock))

    # THEN API Gateway's 401 comes back and the function never ran
    assert (status, body) == (401, {"message": "Unauthorized"}), case
    assert calls(stack) == []


def test_a_token_expires_with_the_stacks_clock(stack, clock):
    # GIVEN a token valid for one hour of the stack's clock
    one_hour = token(clock, ttl=timedelta(hours=1))
    assert get(f"{stack.base_url}/api/cases/c-1", one_hour)[0] == 201

    # WHEN the clock passes its expiry
    clock.advance(timedelta(hours=1, seconds=1))

    # THEN the same token is refused
    assert get(f"{stack.base_url}/api/cases/c-1", one_hour)[0] == 401


def test_authorization_scopes_of_a_route_are_required(stack, clock):
    # GIVEN a route requiring the scope npsloop/admin
    url = f"{stack.base_url}/api/admin"

    # WHEN tokens without and with that scope call it
    without = get(url, token(clock))
    with_scope = get(url, token(clock, extra_claims={"scope": "openid npsloop/admin"}))

    # THEN only the scoped one passes, and the function sees its scopes
    assert without[0] == 401
    assert with_scope[0] == 201
    assert with_scope[1]["requestContext"]["authorizer"]["jwt"]["scopes"] == ["openid", "npsloop/admin"]


def test_public_routes_stay_open_and_carry_no_authorizer(stack):
    # GIVEN a route with no Auth
    # WHEN it is called without a token
    status, event = get(f"{stack.base_url}/r/abc")

    # THEN it is served, with no authorizer context
    assert status == 201
    assert "authorizer" not in event["requestContext"]


def test_the_stack_mints_tokens_for_its_templates_resolved_issuer_and_audience(clock, tmp_path):
    # GIVEN the issuer parameter overridden, as a deployment would
    with LocalStack(
        FIXTURE, parameters={"JwtIssuer": "https://cognito.example/pool"}, clock=clock, outbox_dir=tmp_path
    ) as stack:
        (authorizer,) = set(stack.jwt_authorizers.values()) - {a for a in stack.jwt_authorizers.values() if a.scopes}
        # WHEN the stack mints a dev token, and a token for the default issuer is tried
        minted = stack.dev_token("user-2", groups=["cx"])
        default_issuer = token(clock)

        # THEN the authorizer uses the resolved parameters; the minted token passes, the other does not
        assert (authorizer.issuer, authorizer.audiences) == (
            "https://cognito.example/pool",
            (AUDIENCE, "second-audience"),
        )
        assert get(f"{stack.base_url}/api/cases/c-1", minted)[0] == 201
        assert get(f"{stack.base_url}/api/cases/c-1", default_issuer)[0] == 401


def test_the_token_command_prints_a_token_for_the_template(tmp_path):
    # WHEN `python -m npsloop_local token` runs against the fixture template
    printed = subprocess.run(
        [sys.executable, "-m", "npsloop_local", "token", "--template", str(FIXTURE), "--sub", "u-9", "--group", "cx"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.strip()

    # THEN it is a dev token with the template's issuer and audience
    claims = auth.decode(printed)
    assert (claims["sub"], claims["iss"], claims["aud"], claims["cognito:groups"]) == ("u-9", ISSUER, AUDIENCE, ["cx"])


def test_the_real_templates_api_routes_are_guarded_and_the_survey_pages_are_not(clock, tmp_path):
    # GIVEN the project's template.yaml
    with LocalStack(ROOT / "template.yaml", clock=clock, outbox_dir=tmp_path) as stack:
        guarded = stack.jwt_authorizers

        # THEN exactly the /api routes are guarded, by default by the stack's own user pool and app client
        assert set(guarded) == {key for key in stack.routes if " /api/" in key}
        assert len(guarded) == 4
        pool, client = stack.outputs["UserPoolId"], stack.outputs["UserPoolClientId"]
        issuer = f"https://cognito-idp.eu-west-1.amazonaws.com/{pool}"
        assert {(a.issuer, a.audiences) for a in guarded.values()} == {(issuer, (client,))}
        assert get(f"{stack.base_url}/api/cases", None) == (401, {"message": "Unauthorized"})


def test_the_real_template_trusts_an_external_issuer_when_its_parameters_say_so(clock, tmp_path):
    parameters = {"JwtIssuer": "https://idp.example.com/", "JwtAudience": "npsloop-web"}
    with LocalStack(ROOT / "template.yaml", parameters, clock=clock, outbox_dir=tmp_path) as stack:
        authorizers = {(a.issuer, a.audiences) for a in stack.jwt_authorizers.values()}
        assert authorizers == {("https://idp.example.com/", ("npsloop-web",))}
        assert "UserPool" not in stack.skipped and "UserPoolId" not in stack.outputs  # no pool to trust
