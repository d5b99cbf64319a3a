"""A scope test for every JSON route of the template: a token for store A gets nothing of store B.

The routes are read from template.yaml (every HttpApi event under /api): a new route without a scope
check here fails ``test_every_api_route_has_a_scope_check``. Requests go through the local HTTP API
and its JWT authorizer with tokens of the local sign-in, as a browser's would.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from npsloop.adapters.dynamodb_cases import DynamoCases
from npsloop.domain.alerts import Severity, evaluate, load_alert_rules, load_routing
from npsloop.domain.cases import Case
from npsloop.domain.responses import Response
from npsloop_local.template import Template
from tests.fakes_cases import response_image
from tests.fakes_score import record, response
from tests.stream_records import batch

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
ROUTING = load_routing()
RULES = load_alert_rules()
NOV = datetime(2026, 11, 18, 12, tzinfo=UTC)


def api_routes() -> list[str]:
    routes = []
    for resource in Template.load(TEMPLATE).resources_of_type("AWS::Serverless::Function").values():
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            props = event.get("Properties") or {}
            if event.get("Type") == "HttpApi" and str(props.get("Path", "")).startswith("/api"):
                routes.append(f"{props['Method'].upper()} {props['Path']}")
    return sorted(routes)


@dataclass(frozen=True)
class Actor:
    """Someone whose scope holds ``mine`` and not ``theirs`` (a store, a region and a case each)."""

    name: str
    subject: str
    groups: tuple[str, ...]
    mine: dict
    theirs: dict


KRK = {"store": "KRK-02", "region": "malopolskie", "case": "inv-krk"}
WAW = {"store": "WAW-01", "region": "mazowieckie", "case": "inv-waw"}
ACTORS = [
    Actor("store-manager", "u-sm", ("npsloop-store-KRK-02",), KRK, WAW),
    Actor("regional-manager", "u-rm", ("npsloop-region-malopolskie",), KRK, WAW),
    Actor("analyst", "u-an", ("npsloop-analyst",), {}, {**WAW, "all_cases": True}),
    Actor("case-owner", "u-marek.kowalski", (), {"case": "inv-waw"}, KRK),  # owns the WAW-01 case only
]


def call(stack, method, path, actor, body=None):
    token = stack.dev_token(actor.subject, groups=list(actor.groups))
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{stack.base_url}{path}", data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def open_case(invitation_id, store, region, score=2):
    answer = Response.model_validate(
        response_image(invitation_id, score=score, comment="Kolejka", store=store, region=region)
    )
    return Case.open(
        response=answer,
        fired=evaluate(RULES, answer),
        severity=Severity.NORMAL,
        route=ROUTING.route(answer.context),
        sla_hours=ROUTING.sla_hours,
        calendar=ROUTING.calendar,
        now=NOV,
    )


@pytest.fixture
def world(stack):
    cases = DynamoCases(stack.physical_id("Table"), client=stack.client("dynamodb"))
    for case_id, place in (("inv-krk", KRK), ("inv-waw", WAW)):
        assert cases.create(open_case(case_id, place["store"], place["region"]))
    answers = [response(n, 9 if n % 2 else 3, store=p["store"], region=p["region"], created_at=NOV)
               for n, p in enumerate([KRK, WAW] * 20, start=1)]  # fmt: skip
    assert stack.invoke("ScoreFunction", batch(*[record("INSERT", new=r) for r in answers]))["batchItemFailures"] == []
    return stack


def leaks(body, theirs) -> list[str]:
    """Which of the other scope's store, region or case the answer names."""
    text = json.dumps(body)
    return [value for key, value in theirs.items() if key in {"store", "region", "case"} and f'"{value}"' in text]


def scores_check(stack, actor):
    path = "/api/programs/post-purchase-nps/scores?from=2026-11-01&to=2026-11-20"
    if actor.name == "case-owner":
        status, body = call(stack, "GET", path, actor)
        assert (status, body["error"]) == (403, "forbidden")
        return
    status, body = call(stack, "GET", path, actor)
    assert status == 200 and [g["value"] for g in body["groups"]] == ["all"]  # the network's average
    for dimension in ("store", "region"):
        status, body = call(stack, "GET", f"{path}&group_by={dimension}", actor)
        if actor.name == "store-manager" and dimension == "region":
            assert status == 403 and "your scope is store KRK-02" in body["message"]  # no region in its scope
            continue
        assert status == 200, body
        values = {g["value"] for g in body["groups"]}
        if actor.name == "analyst":
            assert theirs_in(values, actor) and "customer" not in json.dumps(body)  # every store, no personal data
            continue
        assert values <= {actor.mine["store"], actor.mine["region"]} and not leaks(body, actor.theirs)
        status, body = call(stack, "GET", f"{path}&group_by={dimension}&value={actor.theirs[dimension]}", actor)
        assert status == 403 and actor.theirs[dimension] in body["message"], body


def theirs_in(values, actor):
    return actor.theirs["store"] in values or actor.theirs["region"] in values


def list_check(stack, actor):
    status, body = call(stack, "GET", "/api/cases?status=open&limit=100", actor)
    if actor.name == "analyst":  # reads no case: only those it would own, and it owns none
        assert (status, body["cases"]) == (200, [])
        status, body = call(stack, "GET", f"/api/cases?store={actor.theirs['store']}", actor)
        assert (status, body["cases"]) == (200, [])
        return
    assert status == 200
    assert [c["case_id"] for c in body["cases"]] == [actor.mine["case"]]
    assert not leaks(body, actor.theirs)
    status, body = call(stack, "GET", f"/api/cases?store={actor.theirs['store']}", actor)
    if actor.name == "case-owner":  # no store reach: lists only the cases they own there (none)
        assert (status, body["cases"]) == (200, [])
    else:
        assert status == 403 and actor.theirs["store"] in body["message"]


def get_check(stack, actor):
    status, body = call(stack, "GET", f"/api/cases/{actor.theirs['case']}", actor)
    assert (status, body["error"]) == (403, "forbidden") and not leaks(body, actor.theirs)
    if actor.mine.get("case"):
        status, body = call(stack, "GET", f"/api/cases/{actor.mine['case']}", actor)
        assert status == 200 and body["customer_id"] and body["comment"] == "Kolejka"


def patch_check(stack, actor):
    status, body = call(stack, "PATCH", f"/api/cases/{actor.theirs['case']}", actor, {"status": "in_progress"})
    assert (status, body["error"]) == (403, "forbidden")
    _, case = call(stack, "GET", f"/api/cases/{actor.theirs['case']}", Actor("a", "u-a", ("npsloop-admin",), {}, {}))
    assert (case["status"], case["version"]) == ("open", 1)
    if actor.mine.get("case"):
        status, body = call(stack, "PATCH", f"/api/cases/{actor.mine['case']}", actor, {"status": "in_progress"})
        assert (status, body["status"]) == (200, "in_progress")


CHECKS = {
    "GET /api/programs/{program_id}/scores": scores_check,
    "GET /api/cases": list_check,
    "GET /api/cases/{case_id}": get_check,
    "PATCH /api/cases/{case_id}": patch_check,
}


def test_every_api_route_has_a_scope_check():
    assert set(api_routes()) == set(CHECKS), "a route under /api without a scope check (or a check without a route)"


@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: a.name)
@pytest.mark.parametrize("route", api_routes())
def test_a_token_gets_nothing_outside_its_scope(world, route, actor):
    CHECKS[route](world, actor)
