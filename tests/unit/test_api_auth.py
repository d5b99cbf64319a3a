"""Who the JSON API thinks is calling: groups from the JWT authorizer's claims, matched whole."""

from __future__ import annotations

import pytest

from npsloop.api.auth import caller, scope
from npsloop_local.auth import api_gateway_claims


def event(groups):
    claims = {"sub": "u-1"} if groups is None else {"sub": "u-1", "cognito:groups": groups}
    return {"requestContext": {"authorizer": {"jwt": {"claims": claims, "scopes": None}}}}


@pytest.mark.parametrize(
    "groups",
    [
        "[npsloop-admin]",  # how API Gateway renders the list claim ["npsloop-admin"]
        "[cx npsloop-admin]",  # ["cx", "npsloop-admin"]
        "npsloop-admin",  # a plain string claim, the whole value
        ["cx", "npsloop-admin"],  # a list kept as a list
    ],
)
def test_the_admin_group_as_a_list_element_or_the_whole_string_grants_admin(groups):
    assert caller(event(groups)).is_admin


@pytest.mark.parametrize(
    "groups",
    [
        "x npsloop-admin",  # one group named "x npsloop-admin", not two
        "npsloop-admin x",
        "npsloop-admin,cx",
        "[x] npsloop-admin",
        "[npsloop-admin",
        "npsloop-admin]",
        "[[npsloop-admin]]",
        "[npsloop-admin-old]",
        "[cx,npsloop-admin]",  # API Gateway separates items with spaces: this is one item
        "npsloop-administrator",
        "",
        "[]",
        ["x npsloop-admin"],
        None,
    ],
)
def test_anything_else_that_mentions_the_admin_group_does_not_grant_admin(groups):
    assert not caller(event(groups)).is_admin


def test_the_local_authorizers_rendering_of_a_list_claim_is_what_the_parser_reads():
    # GIVEN a token whose cognito:groups is a JSON array, as Cognito issues it
    claims = api_gateway_claims({"sub": "u-1", "cognito:groups": ["cx", "npsloop-admin"]})
    # WHEN the local stack hands it to the function as API Gateway does
    assert claims["cognito:groups"] == "[cx npsloop-admin]"
    # THEN the function reads both groups, each whole
    assert caller(event(claims["cognito:groups"])).groups == frozenset({"cx", "npsloop-admin"})


@pytest.mark.parametrize(
    ("groups", "allowed"),
    [
        ("[npsloop-analyst]", True),
        ("[npsloop-admin]", True),
        ("[cx analysts]", False),
        ("x npsloop-analyst", False),
        (None, False),
    ],
)
def test_reading_scores_needs_a_role_with_a_store_scope_matched_whole(groups, allowed):
    assert scope(event(groups)).reads_scores is allowed


def _request_with_token(payload):
    """A request as API Gateway hands it on: the verified token's claims as strings, and its header."""
    import base64
    import json

    def segment(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    token = f"{segment({'alg': 'RS256'})}.{segment(payload)}.c2ln"
    return {
        "headers": {"authorization": f"Bearer {token}"},
        "requestContext": {"authorizer": {"jwt": {"claims": api_gateway_claims(payload), "scopes": None}}},
    }


def test_a_string_claim_that_looks_like_a_list_does_not_grant_admin():
    # GIVEN two tokens whose claims API Gateway renders identically, "[npsloop-admin]"
    as_list = {"sub": "u-1", "iss": "https://auth.example.com/", "cognito:groups": ["npsloop-admin"]}
    as_string = {"sub": "u-1", "iss": "https://auth.example.com/", "cognito:groups": "[npsloop-admin]"}
    assert api_gateway_claims(as_list)["cognito:groups"] == api_gateway_claims(as_string)["cognito:groups"]

    # THEN the function reads the verified token's own types: only the list claim grants admin
    assert caller(_request_with_token(as_list)).is_admin
    assert not caller(_request_with_token(as_string)).is_admin


def test_a_header_token_of_another_subject_is_not_read():
    # GIVEN claims of u-1 but a header token of u-2 that claims admin
    request = _request_with_token({"sub": "u-2", "iss": "x", "cognito:groups": ["npsloop-admin"]})
    request["requestContext"]["authorizer"]["jwt"]["claims"] = {"sub": "u-1", "iss": "x", "cognito:groups": "[cx]"}
    # THEN the authorizer's claims decide
    assert caller(request).groups == frozenset({"cx"})
