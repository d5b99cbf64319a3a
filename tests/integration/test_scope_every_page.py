"""A scope test for every page of the template: a person whose scope is store A (or region A) gets nothing
of store B (or region B) on any page, download or fragment, as it is or with the URL edited by hand.

The routes are read from template.yaml (every HttpApi event outside /api, which
``test_scope_every_route`` covers): a new page without a check here fails
``test_every_page_has_a_scope_check``. Pages that need no sign-in say why in ``PUBLIC``. Data goes in
through the real path: response items on the table's stream -> the score function's aggregates and
the alert function's cases; people sign in through the local hosted sign-in as a browser does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from boto3.dynamodb.types import TypeSerializer

from npsloop.adapters.dynamodb_answers import answer_index_keys
from npsloop_local.template import Template
from tests.fakes_cases import response_image
from tests.web_client import WebClient, csrf_of, version_of

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
PUBLIC = {
    "GET /r/{token}": "the survey page: its signed token is the whole authority (test_respond_handler)",
    "POST /r/{token}": "the answer: its signed token is the whole authority (test_respond_handler)",
    "GET /u/{token}": "the unsubscribe page: signed token (test_respond_handler)",
    "POST /u/{token}": "the unsubscribe: signed token (test_respond_handler)",
    "GET /auth/sign-in": "starts the sign-in",
    "GET /auth/callback": "ends the sign-in (state and PKCE checked: test_case_pages)",
    "GET /auth/sign-out": "ends a session",
    "GET /auth/signed-out": "a static farewell",
    "GET /static/{name}": "the stack's own scripts and vendored libraries (test_static_files)",
    "GET /reports/stop/{token}": "shows the stop button of a scheduled report: signed token, names no data",
    "POST /reports/stop/{token}": "stops a scheduled report: signed token (test_scheduled_reports)",
}
_serializer = TypeSerializer()


def page_routes() -> list[str]:
    routes = []
    for resource in Template.load(TEMPLATE).resources_of_type("AWS::Serverless::Function").values():
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            props = event.get("Properties") or {}
            path = str(props.get("Path", ""))
            if event.get("Type") == "HttpApi" and not path.startswith("/api"):
                routes.append(f"{props['Method'].upper()} {path}")
    return sorted(routes)


@dataclass(frozen=True)
class Place:
    store: str
    region: str
    case: str  # the case (= invitation id) of its detractor
    secret: str  # a comment only this store's answers carry


KRK = Place("KRK-02", "malopolskie", "inv-scope-krk", "komentarz-tylko-KRK")
WAW = Place("WAW-01", "mazowieckie", "inv-scope-waw", "komentarz-tylko-WAW")


@dataclass(frozen=True)
class Actor:
    persona: str
    mine: Place
    theirs: Place
    edits: tuple[str, ...]  # query strings naming what is not theirs
    manages_theirs: bool = False  # routing.toml makes them the manager of the other place's cases too


ACTORS = [
    Actor("store-KRK-02", KRK, WAW, ("store=WAW-01", "region=mazowieckie", "region=malopolskie")),
    # The regional persona is the region's manager (u-piotr.wisniewski), who manages mazowieckie's cases too:
    # the case pages rightly show him WAW-01's case, so only the score and answer pages are checked for him.
    Actor("region-malopolskie", KRK, WAW, ("store=WAW-01", "region=mazowieckie"), manages_theirs=True),
]


@pytest.fixture
def world(stack, table, clock):
    for place in (KRK, WAW):
        for n in range(6):  # five promoters and one detractor (which opens the store's case)
            invitation = place.case if n == 0 else f"{place.case}-{n}"
            image = response_image(invitation, score=2 if n == 0 else 9, store=place.store, region=place.region,
                                    created_at=clock.now())  # fmt: skip
            image["comment"] = f"{place.secret} {n}"
            image |= answer_index_keys(
                "post-purchase-nps", image["context"], clock.now(), invitation
            )  # as respond does
            table.client.put_item(TableName=table.name, Item={k: _serializer.serialize(v) for k, v in image.items()})
    stack.drain()
    return stack, table


def signed_in(stack, persona: str) -> WebClient:
    browser = WebClient(stack.base_url)
    browser.sign_in(persona, start="/auth/sign-in?next=/cases")
    return browser


def nothing_of(reply, place: Place) -> bool:
    """No comment and no customer of ``place`` (a refused case page may repeat the id the URL asked for)."""
    return place.secret not in reply.body and f"C-{place.case}" not in reply.body


def listing_check(path: str, shows_store: bool = True, filters: tuple[str, ...] = ("store", "region")):
    def check(browser: WebClient, actor: Actor) -> None:
        mine = browser.request("GET", path)
        assert mine.status == 200, (path, mine.status)
        assert (
            nothing_of(mine, actor.theirs)
            and actor.theirs.case not in mine.body
            and (not shows_store or actor.theirs.store not in mine.body)
        )
        for edit in actor.edits:  # another store, another region, or (a store manager's) own region: wider
            if edit.split("=")[0] not in filters:
                continue
            refused = browser.request("GET", f"{path}?{edit}")
            assert refused.status in (401, 403), (path, edit, refused.status)
            assert nothing_of(refused, actor.theirs), (path, edit)

    return check


def answers_check(browser: WebClient, actor: Actor) -> None:
    listing_check("/answers")(browser, actor)
    assert actor.mine.secret in browser.request("GET", "/answers").body  # and its own are there


def case_page_check(browser: WebClient, actor: Actor) -> None:
    assert browser.request("GET", f"/cases/{actor.mine.case}").status == 200
    refused = browser.request("GET", f"/cases/{actor.theirs.case}")
    assert refused.status == 403 and nothing_of(refused, actor.theirs)


def case_form_check(browser: WebClient, actor: Actor) -> None:
    mine = browser.request("GET", f"/cases/{actor.mine.case}")
    form = {"csrf": csrf_of(mine.body), "expected_version": version_of(mine.body), "status": "in_progress", "note": ""}
    refused = browser.request("POST", f"/cases/{actor.theirs.case}", form)
    assert refused.status == 403 and nothing_of(refused, actor.theirs)


CHECKS = {
    "GET /dashboard": listing_check("/dashboard"),
    "GET /answers": answers_check,
    "GET /answers.csv": listing_check("/answers.csv"),
    "GET /answers/latest": listing_check("/answers/latest"),
    "GET /cases": listing_check("/cases", shows_store=False, filters=("store",)),  # the list filters by store only
    "GET /cases/{case_id}": case_page_check,
    "POST /cases/{case_id}": case_form_check,
}


def test_every_page_has_a_scope_check():
    routes = set(page_routes()) - set(PUBLIC)
    assert routes == set(CHECKS), "a page without a scope check here (or a check without a page)"


@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: a.persona)
def test_a_person_gets_nothing_outside_their_scope_on_any_page(world, actor):
    stack, table = world
    browser = signed_in(stack, actor.persona)
    for route in sorted(CHECKS):
        if not (actor.manages_theirs and "/cases" in route):
            CHECKS[route](browser, actor)
    case = table.get(f"CASE#{actor.theirs.case}", "CASE")
    assert (case["status"]["S"], case["version"]["N"]) == ("open", "1")  # the refused form changed nothing
