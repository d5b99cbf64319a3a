"""In-memory fakes of the ports, for unit tests. Each subclasses the real port."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from npsloop.domain.contact import CustomerContact
from npsloop.domain.invitations import CustomerProfile, Invitation
from npsloop.domain.links import SigningKeys
from npsloop.domain.responses import Answer, Response
from npsloop.ports import (
    ClaimOutcome,
    CustomerRepository,
    EventParking,
    InvitationRepository,
    LinkKeyStore,
    Mailer,
    MailRejected,
    MailUnavailable,
    OutgoingEmail,
    ResponseRepository,
    SendContext,
)


class InMemoryStore(InvitationRepository, ResponseRepository, CustomerRepository):
    """Atomic like DynamoDB: every method holds one lock for its whole read-check-write."""

    def __init__(self) -> None:
        self.invitations: dict[str, Invitation] = {}
        self.claims: dict[str, str] = {}
        self.profiles: dict[str, CustomerProfile] = {}
        self.suppressed_addresses: set[str] = set()
        self.responses: dict[str, Response] = {}
        self.contacts: dict[str, tuple[str, CustomerContact, datetime]] = {}  # invitation: (customer, contact, until)
        self.writes = 0
        self._lock = threading.Lock()

    def load_send_context(self, invitation_id: str, customer_id: str, address_key: str | None) -> SendContext:
        with self._lock:
            return SendContext(
                invitation=self.invitations.get(invitation_id),
                profile=self.profiles.get(customer_id),
                address_suppressed=address_key in self.suppressed_addresses,
            )

    def _free(self, invitation_id: str) -> bool:
        current = self.invitations.get(invitation_id)
        return current is None or (current.claimable() and invitation_id not in self.claims)

    def record_skip(self, invitation: Invitation) -> bool:
        with self._lock:
            if not self._free(invitation.invitation_id):
                return False
            self.invitations[invitation.invitation_id] = invitation
            self.writes += 1
            return True

    def claim(
        self, invitation: Invitation, claim_token: str, lease_until: datetime, recontact_cutoff: datetime
    ) -> ClaimOutcome:
        with self._lock:
            now = invitation.created_at
            if not self._free(invitation.invitation_id):
                current = self.invitations[invitation.invitation_id]
                return ClaimOutcome.ALREADY_FINAL if current.is_final() else ClaimOutcome.IN_FLIGHT
            profile = self.profiles.get(invitation.customer_id) or CustomerProfile(customer_id=invitation.customer_id)
            last = profile.last_contacted.get(invitation.program_id)
            own = profile.last_invitation.get(invitation.program_id) == invitation.invitation_id
            if last is not None and last >= recontact_cutoff and not own:
                return ClaimOutcome.RECONTACT_BLOCKED
            self.invitations[invitation.invitation_id] = invitation.model_copy(update={"lease_until": lease_until})
            self.claims[invitation.invitation_id] = claim_token
            self.profiles[invitation.customer_id] = profile.model_copy(
                update={
                    "last_contacted": {**profile.last_contacted, invitation.program_id: now},
                    "last_invitation": {**profile.last_invitation, invitation.program_id: invitation.invitation_id},
                }
            )
            self.writes += 2
            return ClaimOutcome.CLAIMED

    def mark_sent(self, invitation: Invitation, claim_token: str) -> None:
        with self._lock:
            if self.claims.get(invitation.invitation_id) != claim_token:
                return
            self.invitations[invitation.invitation_id] = invitation.model_copy(update={"lease_until": None})
            del self.claims[invitation.invitation_id]
            self.writes += 1

    def mark_failed(self, invitation: Invitation, claim_token: str) -> None:
        self.mark_sent(invitation, claim_token)
        self._unstamp(invitation)

    def release(self, invitation: Invitation, claim_token: str) -> None:
        self._unstamp(invitation)
        with self._lock:
            if self.claims.get(invitation.invitation_id) != claim_token:
                return
            del self.claims[invitation.invitation_id]
            current = self.invitations[invitation.invitation_id]
            self.invitations[invitation.invitation_id] = current.model_copy(update={"lease_until": None})
            self.writes += 1

    def stuck(self, lease_expired_before: datetime, limit: int) -> list[tuple[Invitation, str]]:
        with self._lock:
            found = [
                (self.invitations[invitation_id], token)
                for invitation_id, token in self.claims.items()
                if self.invitations[invitation_id].lease_until < lease_expired_before
            ]
            return sorted(found, key=lambda pair: pair[0].lease_until)[:limit]

    def settle_stuck(self, invitation: Invitation, claim_token: str) -> bool:
        self._unstamp(invitation)
        with self._lock:
            if self.claims.get(invitation.invitation_id) != claim_token:
                return False
            self.invitations[invitation.invitation_id] = invitation.model_copy(update={"lease_until": None})
            del self.claims[invitation.invitation_id]
            self.writes += 1
            return True

    def _unstamp(self, invitation: Invitation) -> None:
        with self._lock:
            profile = self.profiles[invitation.customer_id]
            if profile.last_invitation.get(invitation.program_id) == invitation.invitation_id:
                self.profiles[invitation.customer_id] = profile.model_copy(
                    update={
                        "last_contacted": {
                            k: v for k, v in profile.last_contacted.items() if k != invitation.program_id
                        },
                        "last_invitation": {
                            k: v for k, v in profile.last_invitation.items() if k != invitation.program_id
                        },
                    }
                )

    def get_invitation(self, invitation_id: str) -> Invitation | None:
        return self.invitations.get(invitation_id)

    def keep_contact(self, invitation_id: str, customer_id: str, contact: CustomerContact, until: datetime) -> None:
        with self._lock:
            self.contacts[invitation_id] = (customer_id, contact, until)

    def save_answer(self, invitation: Invitation, answer: Answer, now: datetime) -> Response:
        with self._lock:
            previous = self.responses.get(invitation.invitation_id)
            first = Response.first(invitation, answer, now)
            response = (
                first
                if previous is None
                else first.model_copy(update={"version": previous.version + 1, "created_at": previous.created_at})
            )
            self.responses[invitation.invitation_id] = response
            self.writes += 1
            return response

    def record_unsubscribe(self, invitation_id: str, at: datetime) -> None:
        with self._lock:
            invitation = self.invitations.get(invitation_id)
            if invitation is not None and invitation.unsubscribed_at is None:
                self.invitations[invitation_id] = invitation.model_copy(update={"unsubscribed_at": at})
            self.writes += 1

    def unsubscribe_email(self, customer_id: str, at: datetime) -> datetime:
        with self._lock:
            profile = self.profiles.get(customer_id) or CustomerProfile(customer_id=customer_id)
            if profile.email_unsubscribed_at is None:
                profile = profile.model_copy(update={"email_unsubscribed_at": at})
                self.profiles[customer_id] = profile
            self.writes += 1
            return profile.email_unsubscribed_at  # type: ignore[return-value]


class RecordingMailer(Mailer):
    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []
        self.reject_with: str | None = None
        self.unavailable_with: str | None = None  # e.g. SendingPausedException
        self._lock = threading.Lock()

    def send(self, email: OutgoingEmail) -> str:
        if self.reject_with:
            raise MailRejected(self.reject_with)
        if self.unavailable_with:
            raise MailUnavailable(self.unavailable_with)
        with self._lock:
            self.sent.append(email)
            return f"msg-{len(self.sent):04d}"


class StaticKeys(LinkKeyStore):
    def __init__(self, current: bytes = b"k" * 48, previous: bytes | None = None) -> None:
        self.keys = SigningKeys(current=current, previous=previous)

    def signing_keys(self) -> SigningKeys:
        return self.keys


class ListParking(EventParking):
    def __init__(self) -> None:
        self.parked: list[tuple[Any, str]] = []

    def park(self, event: Any, reason: str) -> None:
        self.parked.append((event, reason))
