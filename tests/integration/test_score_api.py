"""GET /api/programs/{program_id}/scores through the API function, over aggregates the score function wrote."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.conftest import ROOT
from tests.fakes_score import record, response
from tests.stream_records import batch

NOV = datetime(2026, 11, 10, 12, tzinfo=UTC)
OCT = datetime(2026, 10, 12, 12, tzinfo=UTC)


def api_event(program_id: str, query: dict[str, str] | None = None, claims: dict | None = None) -> dict:
    path = f"/api/programs/{program_id}/scores"
    event = {
        "version": "2.0",
        "routeKey": "GET /api/programs/{program_id}/scores",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"accept": "application/json", "host": "abc123.execute-api.eu-west-1.amazonaws.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "pytest",
            },
            "requestId": "req-1",
            "routeKey": "GET /api/programs/{program_id}/scores",
            "stage": "$default",
            "time": "20/Nov/2026:10:30:00 +0000",
            "timeEpoch": 1795170600000,
        },
        "pathParameters": {"program_id": program_id},
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


ANALYST = {"sub": "analyst-1", "email": "analyst@example.com", "cognito:groups": "[cx npsloop-analyst]"}


def get(stack, program_id="post-purchase-nps", claims=ANALYST, **query):
    reply = stack.invoke("ApiFunction", api_event(program_id, query, claims))
    return reply["statusCode"], json.loads(reply["body"])


@pytest.fixture
def scored(stack):
    """October: NPS 20 (n=400); November: NPS 30 (n=400, 50% promoters, 20% detractors), store S07 NPS 33 (n=30)."""
    numbers = iter(range(1, 10**6))

    def responses(scores, at, store="S01"):
        return [response(next(numbers), s, created_at=at, store=store) for s, k in scores.items() for _ in range(k)]

    everything = (
        responses({10: 180, 8: 120, 3: 100}, OCT)
        + responses({10: 190, 8: 120, 3: 60}, NOV)
        + responses({10: 10, 8: 0, 3: 20}, NOV, store="S07")
    )
    for start in range(0, len(everything), 100):
        assert (
            stack.invoke("ScoreFunction", batch(*[record("INSERT", new=r) for r in everything[start : start + 100]]))[
                "batchItemFailures"
            ]
            == []
        )


def test_the_nps_this_month_with_its_interval_and_the_change_since_last_month(stack, scored):
    status, body = get(stack)

    assert status == 200
    assert (body["program_id"], body["survey_type"], body["from"], body["to"]) == (
        "post-purchase-nps",
        "nps",
        "2026-11-01",
        "2026-11-20",
    )
    ((group,),) = [body["groups"]]
    (period,) = group["periods"]
    assert (period["period"], period["n"], period["score"], period["display"]) == ("2026-11", 400, 30.0, 30)
    assert 7.6 <= period["interval"]["margin"] <= 7.7
    assert period["change"] == {
        "previous_period": "2026-10",
        "delta": 10.0,
        "z": pytest.approx(period["change"]["z"]),
        "p_value": pytest.approx(period["change"]["p_value"]),
        "testable": True,
        "significant": False,
    }


def test_the_nps_of_one_store_this_month(stack, scored):
    status, body = get(stack, group_by="store", value="S07")

    assert status == 200
    (group,) = body["groups"]
    assert group["value"] == "S07"
    assert (group["periods"][0]["n"], group["periods"][0]["display"]) == (30, -33)


def test_months_by_store_over_a_range(stack, scored):
    status, body = get(stack, group_by="store", **{"from": "2026-10-01", "to": "2026-11-30"})

    assert status == 200
    assert [g["value"] for g in body["groups"]] == ["S01", "S07"]
    s01 = body["groups"][0]["periods"]
    assert [(p["period"], p["n"], p["display"]) for p in s01] == [("2026-10", 400, 20), ("2026-11", 370, 35)]


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ({"from": "2026-11-10", "to": "2026-11-01"}, 400, "invalid_request"),
        ({"group_by": "colour"}, 400, "invalid_request"),
        ({"period": "year"}, 400, "invalid_request"),
        ({"from": "2020-01-01"}, 400, "invalid_request"),
        ({"min_sample": "5"}, 400, "invalid_request"),  # below the configured floor
    ],
)
def test_bad_queries_get_400_with_the_reason(stack, query, status, error):
    code, body = get(stack, **query)

    assert (code, body["error"]) == (status, error)
    assert body["message"]


def test_an_unknown_program_is_404(stack):
    code, body = get(stack, program_id="nope")

    assert (code, body["error"]) == (404, "unknown_program")


def test_no_claims_no_scores(stack, scored):
    code, body = get(stack, claims=None)

    assert (code, body["error"]) == (401, "unauthorized")


@pytest.mark.parametrize("groups", [None, "[cx]", "[analysts]", "x npsloop-analyst"])
def test_a_valid_token_without_the_analyst_or_admin_group_gets_403_with_a_reason(stack, scored, groups):
    claims = {"sub": "store-manager-1"} | ({"cognito:groups": groups} if groups is not None else {})

    code, body = get(stack, claims=claims)

    assert (code, body["error"]) == (403, "forbidden")
    assert "npsloop-analyst" in body["message"]


def test_an_admin_reads_scores_too(stack, scored):
    code, body = get(stack, claims={"sub": "admin-1", "cognito:groups": "[npsloop-admin]"})

    assert code == 200 and body["groups"]


def test_a_store_table_matches_the_documented_schema_with_small_stores_unranked(stack, scored):
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    validator = Draft202012Validator({"$ref": "#/components/schemas/Scores", "components": document["components"]})
    stack.invoke(
        "ScoreFunction",
        batch(*[record("INSERT", new=response(900_000 + i, 10, created_at=NOV, store="S99")) for i in range(2)]),
    )

    status, body = get(stack, group_by="store")

    assert status == 200
    assert list(validator.iter_errors(body)) == []
    assert body["ranking"]["ranked"] == ["S01", "S07"]
    assert body["ranking"]["unranked"] == ["S99"]  # NPS 100 from two answers: listed apart
    # S07 and S99 have no October to compare with: one change in the family.
    assert (
        body["significance"]
        == "pooled two-sided z-test, Benjamini-Hochberg q=0.05 across 1 change (3 groups x 1 period)"
    )
