"""The ports the services talk to. Adapters (boto3) and test fakes both subclass these.

This module holds the front half's ports (invite, respond); each later area has its own module
beside it (``npsloop.ports.delivery``, ``.scoring``, ``.cases``, ``.export``).

Ports name domain models in annotations only, so they import them under ``TYPE_CHECKING``: a
function that uses one port of an area loads none of the models it never builds (cold start,
``npsloop.wiring.container``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from npsloop.domain.contact import CustomerContact
    from npsloop.domain.invitations import CustomerProfile, Invitation
    from npsloop.domain.links import SigningKeys
    from npsloop.domain.responses import Answer, Response


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"  # this delivery owns the invitation and must send it
    ALREADY_FINAL = "already_final"  # sent or skipped before: nothing to do
    IN_FLIGHT = "in_flight"  # a delivery holds the claim (it may have sent): only it or the sweep decides
    RECONTACT_BLOCKED = "recontact_blocked"  # the ledger says the customer was surveyed too recently


@dataclass(frozen=True)
class SendContext:
    """Everything the eligibility rules need, read in one round trip."""

    invitation: Invitation | None
    profile: CustomerProfile | None
    address_suppressed: bool


class InvitationRepository(ABC):
    @abstractmethod
    def load_send_context(self, invitation_id: str, customer_id: str, address_key: str | None) -> SendContext: ...

    @abstractmethod
    def record_skip(self, invitation: Invitation) -> bool:
        """Store a skipped invitation; False when an invitation with that id already exists."""

    @abstractmethod
    def claim(
        self, invitation: Invitation, claim_token: str, lease_until: datetime, recontact_cutoff: datetime
    ) -> ClaimOutcome:
        """Atomically create the pending invitation and stamp the customer's contact ledger."""

    @abstractmethod
    def mark_sent(self, invitation: Invitation, claim_token: str) -> None:
        """Store the sent invitation, provided this delivery still holds the claim."""

    @abstractmethod
    def mark_failed(self, invitation: Invitation, claim_token: str) -> None:
        """Store the failed invitation and take its stamp off the customer's contact ledger."""

    @abstractmethod
    def release(self, invitation: Invitation, claim_token: str) -> None:
        """Give the claim up when nothing was sent: unstamp the ledger, leave the invitation claimable."""

    @abstractmethod
    def stuck(self, lease_expired_before: datetime, limit: int) -> list[tuple[Invitation, str]]:
        """Pending invitations (with their claim tokens) whose lease expired before the given instant."""

    @abstractmethod
    def settle_stuck(self, invitation: Invitation, claim_token: str) -> bool:
        """Store the stuck invitation as failed and unstamp the ledger (if still its stamp); idempotent.

        False when the claim changed meanwhile (its delivery recorded an outcome after all).
        """

    @abstractmethod
    def get_invitation(self, invitation_id: str) -> Invitation | None: ...

    @abstractmethod
    def keep_contact(self, invitation_id: str, customer_id: str, contact: CustomerContact, until: datetime) -> None:
        """Keep the customer's contact details for a call back until ``until`` (the link's expiry); idempotent."""

    @abstractmethod
    def record_unsubscribe(self, invitation_id: str, at: datetime) -> None:
        """Stamp ``unsubscribed_at`` on the invitation whose link was used, unless it is stamped or gone."""


class ResponseRepository(ABC):
    @abstractmethod
    def save_answer(self, invitation: Invitation, answer: Answer, now: datetime) -> Response:
        """Create the invitation's response or update it, incrementing its version."""


class CustomerRepository(ABC):
    @abstractmethod
    def unsubscribe_email(self, customer_id: str, at: datetime) -> datetime:
        """Suppress survey email for the customer; returns when they first unsubscribed."""


@dataclass(frozen=True)
class OutgoingEmail:
    sender: str
    recipient: str
    raw: bytes
    tags: dict[str, str]


class MailRejected(Exception):
    """The provider refused this message for good (bad recipient, unverified sender): never retry it."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class MailUnavailable(Exception):
    """The provider did not take the message now (throttled, sending paused, unreachable): it was not
    sent, and a later attempt may succeed."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Mailer(ABC):
    @abstractmethod
    def send(self, email: OutgoingEmail) -> str:
        """Send and return the provider's message id.

        Raise MailRejected when it will never go, MailUnavailable when it did not go now; any other
        exception leaves it unknown whether the provider accepted the message.
        """


class LinkKeyStore(ABC):
    @abstractmethod
    def signing_keys(self) -> SigningKeys: ...


class EventParking(ABC):
    @abstractmethod
    def park(self, event: Any, reason: str) -> None:
        """Keep an event that cannot be processed, with the reason, for a person to inspect."""
