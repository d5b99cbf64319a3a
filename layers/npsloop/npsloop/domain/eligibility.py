"""Whether a customer may be surveyed now: consent, suppression, contact pressure, sampling."""

from __future__ import annotations

from datetime import datetime, timedelta

from npsloop.domain.events import BusinessEvent
from npsloop.domain.invitations import CustomerProfile, SkipReason
from npsloop.domain.programs import SurveyProgram


def recontact_cutoff(program: SurveyProgram, now: datetime) -> datetime:
    """A customer last surveyed by this program before the cutoff may be surveyed again."""
    return now - timedelta(days=program.recontact_days)


def skip_reason(
    *,
    program: SurveyProgram,
    event: BusinessEvent,
    invitation_id: str,
    profile: CustomerProfile | None,
    address_suppressed: bool,
    now: datetime,
) -> SkipReason | None:
    """The first rule that forbids the survey, or None when it may be sent. Checked in this order."""
    customer = event.customer
    if not customer.consents.email:
        return SkipReason.NO_EMAIL_CONSENT
    if customer.email is None:
        return SkipReason.NO_EMAIL_ADDRESS
    if address_suppressed:
        return SkipReason.SUPPRESSED
    if profile is not None and profile.email_unsubscribed_at is not None:
        return SkipReason.UNSUBSCRIBED
    if profile is not None and profile.objected_at is not None:
        return SkipReason.OBJECTED
    if profile is not None:
        last = profile.last_contacted.get(program.id)
        own = profile.last_invitation.get(program.id) == invitation_id  # stamped by this very invitation
        if last is not None and not own and last > recontact_cutoff(program, now):
            return SkipReason.RECONTACT_WINDOW
    if not program.samples_in(event.business_key):
        return SkipReason.NOT_SAMPLED
    return None
