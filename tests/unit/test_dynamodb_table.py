"""The DynamoDB adapter's translation of DynamoDB's answers, with a stub client (no network, no moto)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from npsloop.adapters.dynamodb_table import DynamoTable, _invitation_item
from npsloop.domain.invitations import Invitation, InvitationStatus
from npsloop.ports import ClaimOutcome

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def invitation(status: InvitationStatus = InvitationStatus.PENDING) -> Invitation:
    return Invitation(
        invitation_id="fkmdb5zbwtrfie5hy4zxsyonnbuknypn",
        program_id="post-purchase-nps",
        program_version=1,
        template_id="survey-invitation",
        template_version=1,
        survey_type="nps",
        customer_id="C-1",
        business_key="order_id:O-1",
        event_id="e-1",
        locale="en",
        time_zone="Europe/London",
        context={"store": "s"},
        status=status,
        created_at=NOW,
        expires_at=NOW + timedelta(days=30),
    )


def error(code: str, reasons: list[str] | None = None) -> ClientError:
    response = {"Error": {"Code": code, "Message": code}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": r} for r in reasons]
    return ClientError(response, "Operation")


class StubClient:
    def __init__(self, **behaviour):
        self.behaviour = behaviour
        self.calls: list[str] = []

    def __getattr__(self, name):
        def call(**kwargs):
            self.calls.append(name)
            outcome = self.behaviour.get(name)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome or {}

        return call


@pytest.mark.parametrize(
    ("stored", "expected"),
    [(InvitationStatus.SENT, ClaimOutcome.ALREADY_FINAL), (InvitationStatus.PENDING, ClaimOutcome.IN_FLIGHT)],
)
def test_a_refused_claim_says_why(stored, expected):
    client = StubClient(
        put_item=error("ConditionalCheckFailedException"), get_item={"Item": _invitation_item(invitation(stored))}
    )

    outcome = DynamoTable("t", client).claim(invitation(), "token", NOW + timedelta(seconds=45), NOW)

    assert outcome is expected
    assert client.calls == ["put_item", "get_item"]  # the ledger is not touched


def test_a_claim_the_ledger_refuses_is_dropped_and_says_so():
    client = StubClient(update_item=error("ConditionalCheckFailedException"))

    outcome = DynamoTable("t", client).claim(invitation(), "token", NOW + timedelta(seconds=45), NOW)

    assert outcome is ClaimOutcome.RECONTACT_BLOCKED
    assert client.calls == ["put_item", "update_item", "update_item"]  # claim, ledger refused, claim dropped


def test_a_claim_is_two_writes_and_no_transaction():
    client = StubClient()

    outcome = DynamoTable("t", client).claim(invitation(), "token", NOW + timedelta(seconds=45), NOW)

    assert outcome is ClaimOutcome.CLAIMED
    assert client.calls == ["put_item", "update_item"]


def test_a_sent_email_whose_status_cannot_be_written_is_not_retried():
    client = StubClient(put_item=error("ProvisionedThroughputExceededException"))

    DynamoTable("t", client).mark_sent(invitation(InvitationStatus.SENT), "token")  # no exception: no resend

    assert client.calls == ["put_item"]


def test_other_storage_errors_surface():
    client = StubClient(put_item=error("InternalServerError"))

    with pytest.raises(Exception, match="InternalServerError"):
        DynamoTable("t", client).claim(invitation(), "token", NOW, NOW)


def test_a_ledger_that_fails_drops_the_claim_and_surfaces():
    client = StubClient(update_item=error("ProvisionedThroughputExceededException"))

    with pytest.raises(Exception, match="ProvisionedThroughputExceeded"):
        DynamoTable("t", client).claim(invitation(), "token", NOW, NOW)
    assert client.calls == ["put_item", "update_item", "update_item"]  # the second: the claim dropped
