"""The customer's contact details for the call back, through the local stack: a business event with a
phone -> the survey -> a detractor's answer -> a case whose page shows a ``tel:`` link to its owner
only, an alert email to the owner with it, and an erasure request that removes it everywhere."""

from __future__ import annotations

import json

import pytest

from npsloop.adapters.dynamodb_cases import DynamoCases
from npsloop.erasure import erase
from npsloop.ports.cases import VersionConflict
from tests.conftest import ROOT
from tests.stack_support import sent_emails, tokens_in
from tests.web_client import WebClient

PHONE_LINK = 'href="tel:+48601234567"'


def answered_detractor(stack, table) -> str:
    """The PL order event (customer C-200871, phone +48601234567, store online-pl) answered with a 1."""
    event = json.loads((ROOT / "events" / "order-completed-pl.json").read_text(encoding="utf-8"))
    entry = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
        "EventBusName": stack.outputs["EventBusName"],
    }
    assert stack.put_events([entry])["FailedEntryCount"] == 0
    stack.drain()
    (survey,) = sent_emails(stack)
    links, _ = tokens_in(survey)
    reply = WebClient(stack.base_url).request(
        "POST", f"/r/{links[1]}", {"score": "1", "comment": "Nikt nie oddzwonił."}
    )
    assert reply.status == 200
    stack.drain()
    (case,) = table.items("case")
    return case["case_id"]["S"]


def test_the_case_owner_sees_the_customers_phone_as_a_tel_link_and_the_alert_email_carries_it(stack, table):
    case_id = answered_detractor(stack, table)

    page = WebClient(stack.base_url).sign_in("store-online-pl", start=f"/auth/sign-in?next=/cases/{case_id}")

    assert page.status == 200 and page.url.endswith(f"/cases/{case_id}")
    assert PHONE_LINK in page.body and "+48 601 234 567" in page.body
    assert 'href="mailto:' in page.body
    (alert,) = [m for m in sent_emails(stack) if m["To"] == "online-pl@example.com"]
    assert PHONE_LINK in alert.get_body(("html",)).get_content()
    assert "+48 601 234 567" in alert.get_body(("plain",)).get_content()
    # kept beside the invitation until the link expires, never on the invitation, response or SNS message
    (kept,) = table.items("contact")
    assert kept["phone"]["S"] == "+48601234567" and "ttl" in kept
    for entity in ("invitation", "response"):
        assert "+48601234567" not in json.dumps(table.items(entity))


def test_another_store_manager_gets_403_and_the_analyst_sees_no_contact(stack, table):
    case_id = answered_detractor(stack, table)

    other = WebClient(stack.base_url)
    other.sign_in("store-KRK-02", start=f"/auth/sign-in?next=/cases/{case_id}")
    refused = other.go(f"/cases/{case_id}")
    analyst = WebClient(stack.base_url)
    analyst.sign_in("analyst", start=f"/auth/sign-in?next=/cases/{case_id}")
    seen = analyst.go(f"/cases/{case_id}")

    assert refused.status == 403 and "601" not in refused.body
    assert "601 234 567" not in seen.body and "tel:" not in seen.body and "mailto:" not in seen.body


def test_an_erasure_request_removes_the_contact_from_the_case_and_the_kept_item(stack, table):
    case_id = answered_detractor(stack, table)
    contacts = DynamoCases(stack.outputs["TableName"], table.client)

    erased = erase(contacts, "C-200871")
    again = erase(contacts, "C-200871")

    assert (erased, again) == (2, 0)  # the contact item and the case; a retried request changes nothing
    assert table.items("contact") == []
    (case,) = table.items("case")
    assert "contact" not in case
    page = WebClient(stack.base_url).sign_in("store-online-pl", start=f"/auth/sign-in?next=/cases/{case_id}")
    assert "tel:" not in page.body and "C-200871" in page.body


def test_erasing_bumps_the_case_version_so_a_save_from_an_older_read_cannot_write_the_contact_back(stack, table):
    case_id = answered_detractor(stack, table)
    cases = DynamoCases(stack.outputs["TableName"], table.client)
    read_before = cases.get(case_id)
    assert read_before is not None and read_before.contact is not None

    erase(cases, "C-200871")
    stale = read_before.model_copy(update={"version": read_before.version + 1})  # a change made from that read

    with pytest.raises(VersionConflict):
        cases.save(stale, expected_version=read_before.version)
    after = cases.get(case_id)
    assert after is not None and after.contact is None and after.version == read_before.version + 1


class _SaveLandsFirst:
    """The DynamoDB client, with a concurrent case save landing just before the erasure's first write."""

    def __init__(self, client, cases: DynamoCases, case_id: str) -> None:
        self._client, self._cases, self._case_id, self.saved = client, cases, case_id, False

    def __getattr__(self, name):
        return getattr(self._client, name)

    def update_item(self, **request):
        if not self.saved:
            self.saved = True
            case = self._cases.get(self._case_id)
            self._cases.save(case.model_copy(update={"version": case.version + 1}), expected_version=case.version)
        return self._client.update_item(**request)


def test_an_erasure_that_meets_a_concurrent_case_save_reads_again_and_still_removes_the_contact(stack, table):
    case_id = answered_detractor(stack, table)
    name = stack.outputs["TableName"]
    racing = _SaveLandsFirst(table.client, DynamoCases(name, table.client), case_id)

    erased = erase(DynamoCases(name, racing), "C-200871")

    assert racing.saved and erased == 2
    case = DynamoCases(name, table.client).get(case_id)
    assert case is not None and case.contact is None and case.version == 3  # opened 1, the save 2, erasure 3
