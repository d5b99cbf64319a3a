"""The web function's sign-in and case pages under the local stack: the same code as on AWS (RS256 tokens
from the local issuer, verified against its JWKS), the case's scope, the form's rules."""

from __future__ import annotations

from urllib.parse import unquote

from boto3.dynamodb.types import TypeSerializer

from tests.fakes_cases import response_image
from tests.web_client import WebClient, csrf_of, version_of

_serializer = TypeSerializer()


def open_case(stack, table, clock, invitation_id="inv-web", store="WAW-02", region="mazowieckie", comment=None):
    image = response_image(invitation_id, score=2, store=store, region=region, created_at=clock.now())
    if comment:
        image["comment"] = comment
    table.client.put_item(TableName=table.name, Item={k: _serializer.serialize(v) for k, v in image.items()})
    stack.drain()
    return invitation_id


def test_a_case_link_without_a_session_goes_through_the_sign_in_and_back_to_the_case(stack, table, clock):
    case_id = open_case(stack, table, clock, comment="Kurier spóźnił się <b>dwa dni</b>")
    browser = WebClient(stack.base_url)

    first = browser.request("GET", f"/cases/{case_id}")
    assert first.status == 302
    assert first.header("Location") == f"/auth/sign-in?next=%2Fcases%2F{case_id}"
    start = browser.request("GET", first.header("Location"))
    flow_cookie = next(c for c in start.set_cookies() if c.startswith("npsloop_sign_in="))
    assert {"HttpOnly", "Secure", "SameSite=Lax", "Path=/auth"} <= {p.strip() for p in flow_cookie.split(";")}
    authorize = start.header("Location")
    assert "/oauth2/authorize?" in authorize and "code_challenge_method=S256" in authorize

    page = browser.sign_in("region-mazowieckie", start=first.header("Location"))

    assert page.status == 200 and page.url.endswith(f"/cases/{case_id}")
    assert "Kurier spóźnił się &lt;b&gt;dwa dni&lt;/b&gt;" in page.body  # as written, escaped
    assert "C-inv-web" in page.body  # the customer id, for the call back: a manager of the case's region
    session = browser.cookies["npsloop_session"]
    assert (
        session.count(".") == 2
        and '"alg": "RS256"' in __import__("base64").urlsafe_b64decode(session.split(".")[0] + "==").decode()
    )


def test_a_store_manager_gets_a_friendly_403_for_another_stores_case_even_by_editing_the_url(stack, table, clock):
    theirs = open_case(stack, table, clock, "inv-waw", store="WAW-01")
    mine = open_case(stack, table, clock, "inv-krk", store="KRK-02", region="malopolskie")
    browser = WebClient(stack.base_url)
    browser.sign_in("store-KRK-02", start=f"/auth/sign-in?next=/cases/{mine}")

    assert browser.go(f"/cases/{mine}").status == 200
    refused = browser.go(f"/cases/{theirs}")
    assert refused.status == 403
    assert "Not your case" in refused.body and "store KRK-02" in refused.body
    assert "C-inv-waw" not in refused.body
    post = browser.request("POST", f"/cases/{theirs}", {"status": "in_progress", "expected_version": "1"})
    assert post.status == 403
    assert browser.go("/cases?status=open&store=WAW-01").status == 403
    listed = browser.go("/cases?status=open")
    assert f"/cases/{mine}" in listed.body and f"/cases/{theirs}" not in listed.body


def test_the_owner_works_a_case_to_resolved_with_clear_refusals_on_the_way(stack, table, clock):
    case_id = open_case(stack, table, clock)
    browser = WebClient(stack.base_url)
    page = browser.sign_in("store-WAW-01", start=f"/auth/sign-in?next=/cases/{case_id}")
    page = browser.go(f"/cases/{case_id}")
    assert page.status == 403  # WAW-01's manager: the case is WAW-02's
    browser = WebClient(stack.base_url)
    page = browser.sign_in("region-mazowieckie", start=f"/auth/sign-in?next=/cases/{case_id}")
    path = f"/cases/{case_id}"

    def post(**fields):
        return browser.go(path, {"csrf": csrf_of(page.body), "expected_version": version_of(page.body), **fields})

    forged = browser.request("POST", path, {"csrf": "forged", "expected_version": "1", "status": "in_progress"})
    assert forged.status == 403 and "too old or came from elsewhere" in forged.body
    page = post(status="in_progress", note="Dzwonię do klienta")
    assert page.status == 200 and "Saved." in page.body and "Dzwonię do klienta" in page.body
    stale = browser.request("POST", path, {"csrf": csrf_of(page.body), "expected_version": "1", "status": "contacted"})
    assert stale.status == 409 and "Someone else changed this case" in stale.body
    page = post(status="contacted")
    refused = post(status="resolved", note="Zwrot pieniędzy")
    assert refused.status == 422 and "give a root_cause" in refused.body
    assert "Zwrot pieniędzy" in refused.body  # the note is kept in the re-shown form
    page = browser.go(path)
    page = post(status="resolved", root_cause="delivery", note="Zwrot kosztów dostawy")
    assert page.status == 200 and "resolved" in page.body
    history = page.body[page.body.index("History") :]
    for line in ("case opened", "open → in progress", "in progress → contacted", "contacted → resolved"):
        assert line in history
    assert "Zwrot kosztów dostawy" in history and "u-anna.nowak" not in history.split("case opened")[0]


def test_a_session_the_issuer_did_not_sign_is_refused(stack, table, clock):
    case_id = open_case(stack, table, clock)
    browser = WebClient(stack.base_url)
    # A dev token (HS256 under the published local key) passes the local JWT authorizer of /api, never a page.
    browser.cookies["npsloop_session"] = stack.dev_token("u-anna.nowak", groups=["npsloop-admin"])
    reply = browser.request("GET", f"/cases/{case_id}")
    assert reply.status == 302 and unquote(reply.header("Location")) == f"/auth/sign-in?next=/cases/{case_id}"


def test_a_callback_with_another_browsers_state_is_refused(stack):
    browser = WebClient(stack.base_url)
    browser.request("GET", "/auth/sign-in")
    reply = browser.request("GET", "/auth/callback?code=abc&state=someone-elses")
    assert reply.status == 400 and "Sign-in did not finish" in reply.body
    assert "npsloop_session" not in browser.cookies
