"""The ports the services talk to. Adapters (boto3) and test fakes both subclass these.

This module holds the front half's ports (invite, respond); each later area has its own module
beside it (``npsloop.ports.delivery``, ``.scoring``, ``.cases``, ``.export``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from npsloop.domain.invitations import CustomerProfile, Invitation
from npsloop.domain.links import SigningKeys
from npsloop.domain.responses import Answer, Response


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"  # this delivery owns the invitation and must send it
    ALREADY_FINAL = "already_final"  # sent or skipped before: nothing to do
    IN_FLIGHT = "in_flight"  # another delivery holds an unexpired claim
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
    def get_invitation(self, invitation_id: str) -> Invitation | None: ...


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


class Mailer(ABC):
    @abstractmethod
    def send(self, email: OutgoingEmail) -> str:
        """Send and return the provider's message id; raise MailRejected when it will never go."""


class LinkKeyStore(ABC):
    @abstractmethod
    def signing_keys(self) -> SigningKeys: ...


class EventParking(ABC):
    @abstractmethod
    def park(self, event: Any, reason: str) -> None:
        """Keep an event that cannot be processed, with the reason, for a person to inspect."""
