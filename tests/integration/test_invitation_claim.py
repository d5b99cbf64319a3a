"""The invitation claim's two conditional writes on the local stack's table (moto): what each outcome leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from npsloop.adapters.dynamodb_table import DynamoTable
from npsloop.domain.invitations import InvitationStatus, SkipReason
from npsloop.ports import ClaimOutcome
from tests.unit.test_dynamodb_table import invitation

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=20)
CUTOFF = NOW - timedelta(days=30)  # the program's recontact window


def repository(stack) -> DynamoTable:
    return DynamoTable(stack.physical_id("Table"), stack.client("dynamodb"))


def test_a_claim_holds_the_invitation_and_stamps_the_ledger_and_a_second_claim_finds_it_in_flight(stack, table):
    invitations = repository(stack)

    assert invitations.claim(invitation(), "token-1", LEASE, CUTOFF) is ClaimOutcome.CLAIMED
    assert invitations.claim(invitation(), "token-2", LEASE, CUTOFF) is ClaimOutcome.IN_FLIGHT

    stored = table.get("INV#fkmdb5zbwtrfie5hy4zxsyonnbuknypn", "INVITATION")
    assert stored["claim_token"] == {"S": "token-1"} and stored["gsi3pk"] == {"S": "INVITATIONS#claimed"}
    profile = table.get("CUST#C-1", "PROFILE")
    assert profile["li#post-purchase-nps"] == {"S": "fkmdb5zbwtrfie5hy4zxsyonnbuknypn"}

    invitations.mark_sent(invitation(InvitationStatus.SENT), "token-1")
    assert invitations.claim(invitation(), "token-3", LEASE, CUTOFF) is ClaimOutcome.ALREADY_FINAL


def test_a_claim_the_ledger_refuses_leaves_the_invitation_pending_and_unclaimed_so_the_skip_is_recorded(stack, table):
    invitations = repository(stack)
    earlier = invitation().model_copy(update={"invitation_id": "a" * 32, "business_key": "order_id:O-0"})
    assert invitations.claim(earlier, "token-0", LEASE, CUTOFF) is ClaimOutcome.CLAIMED

    outcome = invitations.claim(invitation(), "token-1", LEASE, CUTOFF)  # the same customer, the same day

    assert outcome is ClaimOutcome.RECONTACT_BLOCKED
    stored = table.get("INV#fkmdb5zbwtrfie5hy4zxsyonnbuknypn", "INVITATION")
    assert stored["status"] == {"S": "pending"}
    assert not {"claim_token", "gsi3pk", "gsi3sk", "lease_until"} & set(stored)  # not left for the sweep
    assert table.get("CUST#C-1", "PROFILE")["li#post-purchase-nps"] == {"S": "a" * 32}  # the earlier stamp stands
    skipped = invitation(InvitationStatus.SKIPPED).model_copy(update={"skip_reason": SkipReason.RECONTACT_WINDOW})
    assert invitations.record_skip(skipped)
