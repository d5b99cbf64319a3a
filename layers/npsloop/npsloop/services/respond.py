"""The pages behind the email links. GET only reads (scanners prefetch links); POST commits."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from npsloop.clock import Clock
from npsloop.domain.brand import Brand
from npsloop.domain.invitations import UNCONFIRMED_SEND, Invitation, InvitationStatus
from npsloop.domain.links import LinkPurpose, verify
from npsloop.domain.programs import ProgramCatalogue
from npsloop.domain.responses import MAX_COMMENT_LENGTH, Answer, InvalidAnswer, parse_comment, parse_score
from npsloop.domain.surveys import SCALES
from npsloop.observability import count, logger
from npsloop.ports import CustomerRepository, InvitationRepository, LinkKeyStore, ResponseRepository
from npsloop.rendering import SUPPORTED_LOCALES, format_date, render_page, strings

MAX_FORM_BYTES = 64 * 1024  # 2,000 four-byte characters, percent-encoded, with room to spare


class UnknownInvitation(Exception):
    """The link verified but its invitation is gone (withdrawn, erased) or was never sent."""


class MalformedForm(Exception):
    """The request body is not a form we can read."""


@dataclass(frozen=True)
class Page:
    status: int
    html: str
    locale: str


def preferred_locale(accept_language: str | None) -> str:
    """The first supported language in an Accept-Language header (English when none fits)."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in SUPPORTED_LOCALES:
            return tag
    return "en"


class RespondService:
    def __init__(
        self,
        *,
        programs: ProgramCatalogue,
        invitations: InvitationRepository,
        responses: ResponseRepository,
        customers: CustomerRepository,
        keys: LinkKeyStore,
        brand: Brand,
        clock: Clock,
    ) -> None:
        self._brand = brand
        self._programs = programs
        self._invitations = invitations
        self._responses = responses
        self._customers = customers
        self._keys = keys
        self._clock = clock

    # -- response pages ------------------------------------------------------------------------
    def confirmation_page(self, token: str, raw_score: str | None, action: str) -> Page:
        """The page a one-click link opens: score preselected, comment box. Writes nothing."""
        invitation = self._open(token, LinkPurpose.RESPOND)
        if raw_score is None:
            return Page(200, self._form(invitation, action, score=None), invitation.locale)
        try:
            score = parse_score(raw_score, invitation.survey_type)
        except InvalidAnswer as exc:
            error = describe_invalid_answer(exc, invitation.locale)
            return Page(422, self._form(invitation, action, score=None, error=error), invitation.locale)
        return Page(200, self._form(invitation, action, score=score), invitation.locale)

    def submit(self, token: str, body: str, action: str) -> Page:
        invitation = self._open(token, LinkPurpose.RESPOND)
        form = parse_form(body)
        try:
            answer = Answer(
                score=parse_score(form.get("score"), invitation.survey_type),
                comment=parse_comment(form.get("comment")),
            )
        except InvalidAnswer as exc:
            message = describe_invalid_answer(exc, invitation.locale)
            html = self._form(invitation, action, score=None, comment=form.get("comment"), error=message)
            return Page(422, html, invitation.locale)
        response = self._responses.save_answer(invitation, answer, self._clock.now())
        count("ResponsesSaved", program=invitation.program_id)
        logger.info(
            "response saved",
            invitation_id=invitation.invitation_id,
            program=invitation.program_id,
            version=response.version,
        )
        expires = format_date(invitation.expires_at or response.updated_at, invitation.locale, invitation.time_zone)
        html = render_page(
            "thanks",
            invitation.locale,
            brand=self._brand,
            score=response.score,
            comment=response.comment,
            expires=expires,
        )
        return Page(200, html, invitation.locale)

    # -- unsubscribe ---------------------------------------------------------------------------
    def unsubscribe_page(self, token: str, action: str) -> Page:
        invitation = self._open(token, LinkPurpose.UNSUBSCRIBE)
        return Page(
            200, render_page("unsubscribe", invitation.locale, brand=self._brand, action=action), invitation.locale
        )

    def unsubscribe(self, token: str) -> Page:
        """RFC 8058 one-click: the POST itself unsubscribes, whatever its body."""
        invitation = self._open(token, LinkPurpose.UNSUBSCRIBE)
        now = self._clock.now()
        self._customers.unsubscribe_email(invitation.customer_id, now)
        self._invitations.record_unsubscribe(invitation.invitation_id, now)
        count("Unsubscribed")
        logger.info("email unsubscribed", invitation_id=invitation.invitation_id)
        return Page(200, render_page("unsubscribed", invitation.locale, brand=self._brand), invitation.locale)

    # -- helpers -------------------------------------------------------------------------------
    def _open(self, token: str, purpose: LinkPurpose) -> Invitation:
        claims = verify(self._keys.signing_keys(), purpose, token, self._clock.now())
        invitation = self._invitations.get_invitation(claims.invitation_id)
        if invitation is None:
            raise UnknownInvitation(claims.invitation_id)
        # A verified unsubscribe link always works: whatever was recorded later, an email carried it.
        # So does an answer to an invitation the sweep failed as unconfirmed: SES may well have sent it.
        if purpose is LinkPurpose.RESPOND and _never_sent(invitation):
            raise UnknownInvitation(claims.invitation_id)
        return invitation

    def _form(
        self,
        invitation: Invitation,
        action: str,
        *,
        score: int | None,
        comment: str | None = None,
        error: str | None = None,
    ) -> str:
        t = strings(invitation.locale)
        program = self._programs.get(invitation.program_id)
        survey = invitation.survey_type
        locale, company = invitation.locale, self._brand.company
        return render_page(
            "respond",
            locale,
            brand=self._brand,
            action=action,
            question=program.question.get(locale, company) if program else t["your_score"],
            open_question=program.open_question.get(locale, company) if program and program.open_question else None,
            scale=list(SCALES[survey].values),
            score=score,
            comment=comment,
            error=error,
            low_label=t["low_label"][survey.value],
            high_label=t["high_label"][survey.value],
            max_comment=MAX_COMMENT_LENGTH,
        )


def parse_form(body: str | None) -> dict[str, str]:
    """An application/x-www-form-urlencoded body; repeated or undecodable fields are malformed."""
    if body is None:
        return {}
    if len(body.encode("utf-8", "surrogatepass")) > MAX_FORM_BYTES:
        raise MalformedForm(f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        fields = parse_qs(body, keep_blank_values=True, strict_parsing=bool(body), errors="strict", max_num_fields=20)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedForm("the body is not a valid form") from exc
    if any(len(values) > 1 for values in fields.values()):
        raise MalformedForm("a field was sent more than once")
    return {name: values[0] for name, values in fields.items()}


def describe_invalid_answer(exc: InvalidAnswer, locale: str) -> str:
    template = strings(locale)["reason"].get(exc.code)
    return template.format(**exc.params) if template else exc.reason


def _never_sent(invitation: Invitation) -> bool:
    """Skipped, or refused for good by the mail provider: no email can have carried its links."""
    if invitation.status == InvitationStatus.SKIPPED:
        return True
    return invitation.status == InvitationStatus.FAILED and invitation.failure_reason != UNCONFIRMED_SEND
