"""/answers, /answers.csv and /answers/latest under the local stack: answers written by the real adapters
(the importer's batch writes, the respond path's keys), scope on every route, bounded reads."""

from __future__ import annotations

from datetime import timedelta

import pytest

from npsloop.adapters.dynamodb_import import DynamoImportWriter
from npsloop.adapters.dynamodb_table import DynamoTable
from npsloop.domain.invitations import Invitation
from npsloop.domain.responses import Answer
from npsloop.importing.records import ImportedResponse
from tests.fakes_answers import answer
from tests.web_client import WebClient

ROUTES = ("/answers", "/answers.csv", "/answers/latest")


def seed(table, clock, n: int, store: str, start: int = 0, region: str = "malopolskie", **kw) -> None:
    writer = DynamoImportWriter(table.name, client=table.client, sleep=lambda _: None)
    now = clock.now()
    records = [
        ImportedResponse(answer(start + i, now - timedelta(minutes=i + 1), store=store, region=region, **kw),
                         source="test", source_id=str(start + i))
        for i in range(n)
    ]  # fmt: skip
    for first in range(0, n, 25):
        writer.put(records[first : first + 25])


def signed_in(stack, persona: str) -> WebClient:
    browser = WebClient(stack.base_url)
    browser.sign_in(persona, start="/auth/sign-in?next=/answers")
    return browser


def test_a_store_manager_gets_nothing_of_another_store_on_any_answers_route(stack, table, clock):
    # GIVEN answers of KRK-02 and of WAW-01
    seed(table, clock, 3, "KRK-02", comment="Żółw <b>w kolejce</b>")
    seed(table, clock, 3, "WAW-01", start=100, region="mazowieckie", comment="sekret-WAW")
    browser = signed_in(stack, "store-KRK-02")
    # WHEN KRK-02's manager reads every route, as is and with WAW-01 or its region in the URL
    page = browser.go("/answers?q=zolw")
    assert page.status == 200
    assert "<mark>Żółw</mark> &lt;b&gt;w kolejce&lt;/b&gt;" in page.body and "sekret-WAW" not in page.body
    download = browser.request("GET", "/answers.csv")
    assert download.status == 200 and download.header("Content-Type") == "text/csv; charset=utf-8"
    assert download.body.startswith("\ufeff") and "Żółw" in download.body and "sekret-WAW" not in download.body
    assert download.header("Content-Disposition").startswith("attachment; filename=answers-post-purchase-nps-")
    latest = browser.request("GET", "/answers/latest")
    assert latest.status == 200 and latest.header("Cache-Control") == "no-store" and "<html" not in latest.body
    assert "Żółw" in latest.body and "sekret-WAW" not in latest.body
    for route in ROUTES:
        for edit in ("store=WAW-01", "region=mazowieckie"):
            refused = browser.request("GET", f"{route}?{edit}")
            # THEN a friendly 403 with the reason, and none of WAW-01's answers
            assert refused.status == 403, (route, edit)
            assert "sekret-WAW" not in refused.body and "C-100" not in refused.body


def test_an_analyst_sees_scores_but_no_comment_or_customer_id(stack, table, clock):
    seed(table, clock, 2, "KRK-02", comment="Prywatny komentarz")
    browser = signed_in(stack, "analyst")
    page = browser.go("/answers")
    assert page.status == 200 and "KRK-02" in page.body
    assert (
        "Prywatny komentarz" not in page.body and "C-1" not in page.body and "no access to personal data" in page.body
    )
    csv_text = browser.request("GET", "/answers.csv").body
    assert "Prywatny komentarz" not in csv_text and "customer_id" not in csv_text
    assert browser.request("GET", "/answers?q=komentarz").status == 403


def test_a_case_owner_without_a_store_scope_gets_an_explanation_and_signed_out_latest_is_401(stack, clock):
    assert WebClient(stack.base_url).request("GET", "/answers/latest").status == 401
    browser = WebClient(stack.base_url)
    page = browser.sign_in("owner-cx-desk", start="/auth/sign-in?next=/answers")
    assert page.status == 200 and "No answers to show you" in page.body and 'href="/cases"' in page.body


def test_the_respond_path_writes_the_index_keys_and_a_changed_answer_keeps_its_place(stack, table, clock):
    invitation = Invitation.model_validate(
        {"invitation_id": "inv-live", "program_id": "post-purchase-nps", "program_version": 1,
         "template_id": "survey-invitation", "template_version": 1, "survey_type": "nps", "customer_id": "C-9",
         "business_key": "order_id:1", "event_id": "e-1", "locale": "pl", "time_zone": "Europe/Warsaw",
         "context": {"store": "KRK-02", "region": "malopolskie", "channel": "web"}, "status": "sent",
         "created_at": clock.now(), "expires_at": clock.now() + timedelta(days=30)}
    )  # fmt: skip
    repository = DynamoTable(table.name, client=table.client)
    repository.save_answer(invitation, Answer(score=3, comment="pierwsza"), clock.now())
    first = table.get("INV#inv-live", "RESPONSE")
    clock.advance(timedelta(hours=2))
    repository.save_answer(invitation, Answer(score=9, comment="druga"), clock.now())
    item = table.get("INV#inv-live", "RESPONSE")
    month = f"{clock.now():%Y-%m}"
    assert item["gsi2pk"]["S"] == "ANSWERS#post-purchase-nps#KRK-02"
    assert item["gsi1pk"]["S"] == f"ANSWERS#post-purchase-nps#{month}"
    assert item["gsi2sk"] == first["gsi2sk"] and item["gsi2sk"]["S"].endswith("#inv-live")
    assert item["score"]["N"] == "9"
    body = signed_in(stack, "store-KRK-02").go("/answers").body
    assert "druga" in body and "pierwsza" not in body


@pytest.mark.parametrize("persona", ["store-KRK-02", "cx-lead"])
def test_reads_per_page_view_do_not_grow_with_the_number_of_answers(stack, table, clock, persona):
    counts = []
    for n, start in ((50, 0), (450, 1000)):  # 50 answers, then 500
        seed(table, clock, n, "KRK-02", start=start)
        browser = signed_in(stack, persona)
        queries = []
        check = stack.authorizer.check

        def counting(role, needed, _check=check, queries=queries):
            queries.extend(action for action, _ in needed if action == "dynamodb:Query")
            return _check(role, needed)

        stack.authorizer.check = counting
        try:
            page = browser.go("/answers?group=promoter")
        finally:
            stack.authorizer.check = check
        assert page.status == 200 and page.body.count('class="num"') == 25
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 2
