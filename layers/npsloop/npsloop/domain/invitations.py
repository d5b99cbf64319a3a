"""Invitations: one per (program, business key), whatever happens to the events that ask for it."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from npsloop.domain.surveys import SurveyType
from npsloop.domain.types import Identifier, Locale, TimeZoneName


class InvitationStatus(StrEnum):
    PENDING = "pending"  # claimed by one delivery of the event, email not confirmed sent yet
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"  # refused for good by the mail provider, or its send never confirmed (UNCONFIRMED_SEND)


# failure_reason of an invitation the sweep found pending after every retry of its event was spent:
# the delivery that claimed it never recorded an outcome, so the email may or may not have gone.
UNCONFIRMED_SEND = "UnconfirmedSend"


class SkipReason(StrEnum):
    NO_EMAIL_CONSENT = "no_email_consent"
    NO_EMAIL_ADDRESS = "no_email_address"
    SUPPRESSED = "suppressed"
    UNSUBSCRIBED = "unsubscribed"
    RECONTACT_WINDOW = "recontact_window"
    NOT_SAMPLED = "not_sampled"
    OBJECTED = "objected"  # the customer objected to survey email (a spam complaint; GDPR Art. 21)


def invitation_id_for(program_id: str, business_key: str) -> str:
    """Deterministic, so every delivery of the same business fact lands on the same invitation.

    It is a hash: the token that carries it reveals neither the customer nor the order.
    """
    digest = hashlib.sha256(f"npsloop-invitation\x1f{program_id}\x1f{business_key}".encode()).digest()
    return base64.b32encode(digest[:20]).decode().lower()


def address_key(email: str) -> str:
    """Suppression-list key for an address: a hash, so the list stores no address in the clear."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class Invitation(BaseModel):
    model_config = ConfigDict(frozen=True)

    invitation_id: str
    program_id: str
    program_version: int
    template_id: str
    template_version: int
    survey_type: SurveyType
    customer_id: Identifier
    business_key: str
    event_id: Identifier
    locale: Locale
    time_zone: TimeZoneName
    context: dict[str, str]
    vip: bool = False
    status: InvitationStatus
    skip_reason: SkipReason | None = None
    created_at: AwareDatetime
    sent_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    message_id: str | None = None
    failure_reason: str | None = None
    lease_until: AwareDatetime | None = None
    # Set by the delivery function from SES's reports (npsloop.domain.delivery.DeliveryStatus).
    delivery_status: str | None = None
    delivered_at: AwareDatetime | None = None
    bounced_at: AwareDatetime | None = None
    bounce_type: str | None = None
    complained_at: AwareDatetime | None = None
    unsubscribed_at: AwareDatetime | None = None  # its unsubscribe link was used (the funnel's stage)

    def claimable(self) -> bool:
        """Pending without a lease: its last claimant released it before sending anything."""
        return self.status is InvitationStatus.PENDING and self.lease_until is None

    def is_final(self) -> bool:
        return self.status is not InvitationStatus.PENDING


class CustomerProfile(BaseModel):
    """What npsloop keeps per customer: the contact ledger, their unsubscribe and their objection."""

    customer_id: str
    last_contacted: dict[str, datetime] = {}
    last_invitation: dict[str, str] = {}
    email_unsubscribed_at: AwareDatetime | None = None
    objected_at: AwareDatetime | None = None  # set by the delivery function when they complain
