"""Business event in, at most one survey email per (program, business key) out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser import ValidationError, parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from npsloop.clock import Clock
from npsloop.domain.brand import Brand
from npsloop.domain.contact import CustomerContact
from npsloop.domain.delivery import INVITATION_HEADER, INVITATION_TAG
from npsloop.domain.eligibility import recontact_cutoff, skip_reason
from npsloop.domain.events import BusinessEvent, UnknownDetailType, parse_business_event
from npsloop.domain.invitations import (
    Invitation,
    InvitationStatus,
    SkipReason,
    address_key,
    invitation_id_for,
)
from npsloop.domain.links import LinkPurpose, sign
from npsloop.domain.programs import ProgramCatalogue, SurveyProgram
from npsloop.observability import count, logger
from npsloop.ports import (
    ClaimOutcome,
    EventParking,
    InvitationRepository,
    LinkKeyStore,
    Mailer,
    MailRejected,
    MailUnavailable,
    OutgoingEmail,
)
from npsloop.rendering import build_mime, render_invitation

# The longest any delivery of a business event can still arrive after it first reached the invite
# function: the EventBridge rule's RetryPolicy and Lambda's EventInvokeConfig each give up on an event
# older than an hour (MaximumEventAgeInSeconds in template.yaml; a unit test keeps them in step).
RETRY_HORIZON = timedelta(hours=2)
# A claim outlives every retry of its event, so no retry ever resends an email whose send is unknown;
# past the lease only the sweep decides (InvitationSweep).
CLAIM_LEASE = RETRY_HORIZON + timedelta(minutes=1)
UNSUBSCRIBE_LINK_TTL = timedelta(days=365)


class InvitationInFlight(Exception):
    """A delivery of the same business fact holds the claim; retry later to confirm it was sent."""


class InvitationDeferred(Exception):
    """The mail provider did not take the message now (e.g. sending paused): the claim is released and
    the event fails, so Lambda retries it and finally parks it in the DLQ for a redrive."""


@dataclass(frozen=True)
class InviteOutcome:
    result: Literal["sent", "skipped", "failed", "duplicate", "parked", "no_program"]
    program_id: str | None = None
    invitation_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SenderIdentity:
    """The From address and the links' base URL; the display name is the brand's, per language."""

    address: str
    public_base_url: str


class InviteService:
    def __init__(
        self,
        *,
        programs: ProgramCatalogue,
        invitations: InvitationRepository,
        mailer: Mailer,
        keys: LinkKeyStore,
        parking: EventParking,
        sender: SenderIdentity,
        brand: Brand,
        clock: Clock,
    ) -> None:
        self._programs = programs
        self._invitations = invitations
        self._mailer = mailer
        self._keys = keys
        self._parking = parking
        self._sender = sender
        self._brand = brand
        self._clock = clock

    def accept(self, raw_event: dict[str, Any]) -> list[InviteOutcome]:
        """Handle one EventBridge delivery. Invalid events are parked, never retried."""
        try:
            envelope = parse(event=raw_event, model=EventBridgeModel)
            event = parse_business_event(envelope.detail_type, envelope.detail)
        except (ValidationError, UnknownDetailType) as exc:
            reason = _describe_invalid(exc)
            logger.warning("business event parked", reason=reason, event_id=_safe_id(raw_event))
            self._parking.park(raw_event, reason)
            count("EventsParked")
            return [InviteOutcome(result="parked", reason=reason)]

        programs = self._programs.for_event(envelope.source, envelope.detail_type, envelope.detail)
        if not programs:
            logger.info("no program for event", detail_type=envelope.detail_type, event_id=event.event_id)
            return [InviteOutcome(result="no_program")]
        return [self._invite(program, event) for program in programs]

    def _invite(self, program: SurveyProgram, event: BusinessEvent) -> InviteOutcome:
        now = self._clock.now()
        invitation_id = invitation_id_for(program.id, event.business_key)
        email = event.customer.email
        context = self._invitations.load_send_context(
            invitation_id, event.customer.id, address_key(email) if email else None
        )
        existing = context.invitation
        if existing is not None and existing.is_final():
            return self._duplicate(program, invitation_id)
        if existing is not None and not existing.claimable():
            # Claimed by a delivery that may have sent it: never send again; it or the sweep decides.
            raise InvitationInFlight(invitation_id)

        reason = skip_reason(
            program=program,
            event=event,
            invitation_id=invitation_id,
            profile=context.profile,
            address_suppressed=context.address_suppressed,
            now=now,
        )
        if reason is not None:
            return self._skip(program, event, invitation_id, reason, now)

        pending = _invitation(program, event, invitation_id, now, InvitationStatus.PENDING)
        claim_token = uuid.uuid4().hex
        match self._invitations.claim(pending, claim_token, now + CLAIM_LEASE, recontact_cutoff(program, now)):
            case ClaimOutcome.ALREADY_FINAL:
                return self._duplicate(program, invitation_id)
            case ClaimOutcome.IN_FLIGHT:
                raise InvitationInFlight(invitation_id)
            case ClaimOutcome.RECONTACT_BLOCKED:
                return self._skip(program, event, invitation_id, SkipReason.RECONTACT_WINDOW, now)
            case ClaimOutcome.CLAIMED:
                return self._send(program, event, pending, claim_token)

    def _keep_contact(self, event: BusinessEvent, invitation: Invitation) -> None:
        """The customer's email and phone for a call back, kept only while the link can bring an answer."""
        contact = CustomerContact(email=event.customer.email, phone=event.customer.phone)
        if not contact.empty and invitation.expires_at is not None:
            self._invitations.keep_contact(invitation.invitation_id, event.customer.id, contact, invitation.expires_at)

    def _send(
        self, program: SurveyProgram, event: BusinessEvent, invitation: Invitation, claim_token: str
    ) -> InviteOutcome:
        try:
            outgoing = self._compose(program, event, invitation)
            self._keep_contact(event, invitation)
        except Exception:
            self._invitations.release(invitation, claim_token)  # nothing went out: a retry may take over
            raise
        try:
            message_id = self._mailer.send(outgoing)
        except MailRejected as exc:
            failed = invitation.model_copy(update={"status": InvitationStatus.FAILED, "failure_reason": exc.code})
            self._invitations.mark_failed(failed, claim_token)
            logger.warning("invitation rejected by the mail provider", program=program.id, reason=exc.code)
            count("InvitationsFailed", program=program.id)
            return InviteOutcome(
                result="failed", program_id=program.id, invitation_id=invitation.invitation_id, reason=exc.code
            )
        except MailUnavailable as exc:
            # Not sent (throttled, sending paused): the invitation waits for Lambda's retries, then in
            # the DLQ for a redrive. Any other error leaves the send unknown, so the claim stays.
            self._invitations.release(invitation, claim_token)
            logger.warning("invitation deferred by the mail provider", program=program.id, reason=exc.code)
            count("InvitationsDeferred", program=program.id, reason=exc.code)
            raise InvitationDeferred(exc.code) from exc
        sent = invitation.model_copy(
            update={"status": InvitationStatus.SENT, "message_id": message_id, "sent_at": self._clock.now()}
        )
        self._invitations.mark_sent(sent, claim_token)
        logger.info("invitation sent", program=program.id, invitation_id=invitation.invitation_id)
        count("InvitationsSent", program=program.id)
        return InviteOutcome(result="sent", program_id=program.id, invitation_id=invitation.invitation_id)

    def _compose(self, program: SurveyProgram, event: BusinessEvent, invitation: Invitation) -> OutgoingEmail:
        if event.customer.email is None or invitation.expires_at is None:  # eligibility guarantees both
            raise ValueError("an invitation to send needs an address and an expiry")
        keys = self._keys.signing_keys()
        base = self._sender.public_base_url
        respond_url = f"{base}/r/{sign(keys, LinkPurpose.RESPOND, invitation.invitation_id, invitation.expires_at)}"
        unsubscribe_expiry = invitation.created_at + UNSUBSCRIBE_LINK_TTL
        unsubscribe_url = (
            f"{base}/u/{sign(keys, LinkPurpose.UNSUBSCRIBE, invitation.invitation_id, unsubscribe_expiry)}"
        )
        locale = invitation.locale
        company = self._brand.company
        rendered = render_invitation(
            template_id=program.template.id,
            template_version=program.template.version,
            locale=locale,
            survey_type=program.survey,
            first_name=event.customer.first_name,
            subject=program.subject.get(locale, company),
            question=program.question.get(locale, company),
            intro=program.intro.get(locale, company) if program.intro else None,
            respond_url=respond_url,
            unsubscribe_url=unsubscribe_url,
            expires_at=invitation.expires_at,
            time_zone=invitation.time_zone,
            brand=self._brand,
        )
        raw = build_mime(
            sender=self._sender.address,
            sender_name=self._brand.sender_name.get(locale),
            recipient=event.customer.email,
            email=rendered,
            unsubscribe_url=unsubscribe_url,
            # SES echoes headers in both report formats; tags only in event publishing. The id is a hash.
            headers={INVITATION_HEADER: invitation.invitation_id},
        )
        return OutgoingEmail(
            sender=self._sender.address,
            recipient=event.customer.email,
            raw=raw,
            tags={"program": program.id, INVITATION_TAG: invitation.invitation_id},
        )

    def _skip(
        self,
        program: SurveyProgram,
        event: BusinessEvent,
        invitation_id: str,
        reason: SkipReason,
        now: datetime,
    ) -> InviteOutcome:
        skipped = _invitation(program, event, invitation_id, now, InvitationStatus.SKIPPED, reason)
        if not self._invitations.record_skip(skipped):
            return self._duplicate(program, invitation_id)
        logger.info("invitation skipped", program=program.id, invitation_id=invitation_id, reason=reason.value)
        count("InvitationsSkipped", program=program.id, reason=reason.value)
        return InviteOutcome(result="skipped", program_id=program.id, invitation_id=invitation_id, reason=reason.value)

    @staticmethod
    def _duplicate(program: SurveyProgram, invitation_id: str) -> InviteOutcome:
        logger.info("duplicate delivery ignored", program=program.id, invitation_id=invitation_id)
        return InviteOutcome(result="duplicate", program_id=program.id, invitation_id=invitation_id)


def _invitation(  # noqa: PLR0917 - a plain constructor
    program: SurveyProgram,
    event: BusinessEvent,
    invitation_id: str,
    now: datetime,
    status: InvitationStatus,
    reason: SkipReason | None = None,
) -> Invitation:
    return Invitation(
        invitation_id=invitation_id,
        program_id=program.id,
        program_version=program.version,
        template_id=program.template.id,
        template_version=program.template.version,
        survey_type=program.survey,
        customer_id=event.customer.id,
        business_key=event.business_key,
        event_id=event.event_id,
        locale=event.customer.locale,
        time_zone=event.customer.time_zone,
        context=event.context.dimensions(),
        vip=event.customer.vip,
        status=status,
        skip_reason=reason,
        created_at=now,
        expires_at=now + timedelta(days=program.link_ttl_days) if status is InvitationStatus.PENDING else None,
    )


def _describe_invalid(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        # Field paths and messages only: input values may hold personal data.
        return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(event)'}: {err['msg']}" for err in exc.errors())[
            :1000
        ]
    return str(exc)[:1000]


def _safe_id(raw_event: Any) -> str | None:
    value = raw_event.get("id") if isinstance(raw_event, dict) else None
    return value if isinstance(value, str) and len(value) <= 128 else None
