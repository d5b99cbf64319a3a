"""Survey responses: one per invitation, changeable until the link expires."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from npsloop.domain.invitations import Invitation
from npsloop.domain.surveys import SCALES, SurveyType

MAX_COMMENT_LENGTH = 2000
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,3}")  # ASCII digits only: "²" and "٣" are digits to str.isdigit
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidAnswer(ValueError):
    """The submitted answer breaks a rule; the message says which, for the person who sent it."""

    def __init__(self, field: str, code: str, reason: str, **params: int) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.code = code
        self.reason = reason
        self.params = params


def _clean_comment(value: object) -> object:
    if isinstance(value, str):
        value = unicodedata.normalize("NFC", _CONTROL.sub("", value.replace("\r\n", "\n"))).strip()
        return value or None
    return value


Comment = Annotated[Annotated[str, Field(max_length=MAX_COMMENT_LENGTH)] | None, BeforeValidator(_clean_comment)]


def parse_score(raw: str | None, survey_type: SurveyType) -> int:
    scale = SCALES[survey_type]
    if raw is None or not raw.strip():
        raise InvalidAnswer("score", "score_missing", "choose a score")
    text = raw.strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        raise InvalidAnswer(
            "score",
            "score_range",
            f"must be a whole number from {scale.low} to {scale.high}",
            low=scale.low,
            high=scale.high,
        )
    score = int(text)
    if score not in scale:
        raise InvalidAnswer(
            "score",
            "score_range",
            f"must be from {scale.low} to {scale.high}",
            low=scale.low,
            high=scale.high,
        )
    return score


def parse_comment(raw: str | None) -> str | None:
    cleaned = _clean_comment(raw)
    if isinstance(cleaned, str) and len(cleaned) > MAX_COMMENT_LENGTH:
        raise InvalidAnswer(
            "comment",
            "comment_too_long",
            f"must be at most {MAX_COMMENT_LENGTH} characters (got {len(cleaned)})",
            limit=MAX_COMMENT_LENGTH,
        )
    return cleaned  # type: ignore[return-value]


class Answer(BaseModel):
    """A validated answer, as the person submitted it."""

    model_config = ConfigDict(frozen=True)

    score: int
    comment: Comment = None


def text_hash(comment: str) -> str:
    """What an analysis records of the text it judged (sha-256, 32 hex): never the text itself."""
    return hashlib.sha256(comment.encode("utf-8")).hexdigest()[:32]


class ResponseAnalysis(BaseModel):
    """The comment analysis stored on a response (issue 12): written by the analyse function and the backfill."""

    model_config = ConfigDict(frozen=True)

    sentiment: str
    themes: tuple[str, ...] = ()
    masked: str  # the comment with its personal data replaced by typed placeholders
    provider: str
    model_version: str
    taxonomy_version: str
    analysed_text_hash: str

    @property
    def version(self) -> str:
        return f"{self.provider}/{self.model_version}/{self.taxonomy_version}"


class Response(BaseModel):
    """A stored response: the answer plus what the scoring and alerting need from the invitation."""

    model_config = ConfigDict(frozen=True)

    invitation_id: str
    program_id: str
    program_version: int
    survey_type: SurveyType
    customer_id: str
    locale: str
    context: dict[str, str]
    vip: bool = False
    score: int
    comment: Comment = None
    version: int
    created_at: AwareDatetime
    updated_at: AwareDatetime
    invited_at: AwareDatetime | None = None  # the invitation's created_at: its funnel day (none when imported)
    analysis: ResponseAnalysis | None = None  # set by the analyse function after the response is stored

    @property
    def current_analysis(self) -> ResponseAnalysis | None:
        """The analysis of the comment as it is now (none while a changed comment waits for its new one)."""
        if self.analysis is None or not self.comment or self.analysis.analysed_text_hash != text_hash(self.comment):
            return None
        return self.analysis

    @classmethod
    def first(cls, invitation: Invitation, answer: Answer, now: datetime) -> Response:
        """Version 1 of an invitation's response, carrying what scoring and alerts need from it."""
        return cls(
            invitation_id=invitation.invitation_id,
            program_id=invitation.program_id,
            program_version=invitation.program_version,
            survey_type=invitation.survey_type,
            customer_id=invitation.customer_id,
            locale=invitation.locale,
            context=invitation.context,
            vip=invitation.vip,
            score=answer.score,
            comment=answer.comment,
            version=1,
            created_at=now,
            updated_at=now,
            invited_at=invitation.created_at,
        )


def masked_comment(response: Response) -> str | None:
    """The comment as everyone but its case owner sees it (issue 12): the analysis's masked text, or, until
    the comment is analysed, masked now. Exports, SNS alerts, digests and other people's pages show this."""
    analysis = response.current_analysis
    if analysis is not None:
        return analysis.masked
    if not response.comment:
        return response.comment
    from npsloop.text.masking import mask  # regexes and checksums only: no model

    return mask(response.comment).text
