"""What one source record becomes in npsloop: a response, a suppression, or a rejection with its reason.

A response is the live system's ``Response`` (so the score and export consumers read it like any
other), keyed by an invitation id derived from the source's response id: re-importing the same
record lands on the same item. It keeps what the live system keeps for an answer (score, comment,
context, locale, customer id, times) plus the source's tags and note texts, and no more: no email,
name, phone number or permalink. Unsubscribes and bounces suppress the address by its hash, as the
delivery function does for SES's bounces.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from npsloop.domain.delivery import Suppression, SuppressionReason
from npsloop.domain.invitations import address_key, invitation_id_for
from npsloop.domain.responses import MAX_COMMENT_LENGTH, Response, parse_comment
from npsloop.domain.surveys import SCALES, SurveyType
from npsloop.importing.mapping import ImportMapping

IMPORTED_PROGRAM_VERSION = 0  # no npsloop program version asked an imported question
MAX_TAGS = 50
MAX_TEXT = 2000


class Rejected(ValueError):
    """The record cannot be mapped; the message says why (it names fields, never personal values)."""


@dataclass(frozen=True)
class ImportedResponse:
    response: Response
    source: str
    source_id: str
    tags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportedSuppression:
    suppression: Suppression
    source: str


Imported = ImportedResponse | ImportedSuppression


@dataclass
class Mapper:
    """Maps source records with one mapping; ``programs`` is ``ImportMapping.check_against``'s result."""

    mapping: ImportMapping
    programs: dict[str, tuple[str, SurveyType]]
    emails_by_person: dict[str, str] = field(default_factory=dict)  # from a Delighted people file, if given

    # -- Delighted's API JSON -------------------------------------------------------------------
    def delighted_response(self, record: Any) -> ImportedResponse:
        data = _object(record)
        source_id = _text(data, "id", required=True)
        person = data.get("person")
        person_id = str(person.get("id")) if isinstance(person, dict) else (str(person) if person else "")
        properties = data.get("person_properties") or {}
        if not isinstance(properties, dict):
            raise Rejected("person_properties is not an object")
        properties = {str(k): v for k, v in properties.items()}
        customer_id = _plain(properties.get(self.mapping.customer.id))
        if not customer_id:
            if not person_id:
                raise Rejected(f"no customer: neither person nor person_properties[{self.mapping.customer.id!r}]")
            customer_id = f"{self.mapping.source}:{person_id}"
        return self._response(
            source_id=source_id,
            survey_type=_text(data, "survey_type", required=True),
            raw_score=data.get("score"),
            created=_unix(data.get("created_at"), "created_at"),
            updated=_unix(data.get("updated_at"), "updated_at") if data.get("updated_at") is not None else None,
            comment=data.get("comment"),
            customer_id=customer_id,
            properties=properties,
            tags=_tags(data.get("tags")),
            notes=_notes(data.get("notes")),
        )

    def delighted_unsubscribe(self, record: Any) -> ImportedSuppression:
        return self._suppression(record, "unsubscribed_at", SuppressionReason.UNSUBSCRIBED)

    def delighted_bounce(self, record: Any) -> ImportedSuppression:
        return self._suppression(record, "bounced_at", SuppressionReason.HARD_BOUNCE)

    def delighted_person(self, record: Any) -> None:
        """People are read only to find the address of an unsubscribe or bounce that lacks one."""
        data = _object(record)
        person_id, email = _plain(data.get("id")), _plain(data.get("email"))
        if person_id and email:
            self.emails_by_person[person_id] = email

    def _suppression(self, record: Any, at_field: str, reason: SuppressionReason) -> ImportedSuppression:
        data = _object(record)
        person_id = _plain(data.get("person_id"))
        email = _plain(data.get("email")) or self.emails_by_person.get(person_id or "")
        if not email or "@" not in email:
            raise Rejected("no email address (nor a person_id found in the people file)")
        at = _unix(data.get(at_field), at_field)
        key = address_key(email)
        return ImportedSuppression(
            Suppression(
                address_key=key,
                reason=reason,
                at=at,
                message_id=f"import:{self.mapping.source}:{reason.value}:{person_id or key[:16]}",
            ),
            self.mapping.source,
        )

    # -- CSV (Delighted's download, or any tool's) ----------------------------------------------
    def csv_response(self, row: dict[str, str | None]) -> ImportedResponse:
        columns = self.mapping.csv
        row = {k.strip(): v for k, v in row.items() if k is not None}
        source_id = (
            _cell(row, columns.id)
            or "row:" + hashlib.sha256(json.dumps(row, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
        )
        customer_id = _cell(row, columns.customer_id) or _cell(row, self.mapping.customer.id)
        if not customer_id:
            email = _cell(row, columns.email)
            if not email or "@" not in email:
                raise Rejected(f"no customer: column {columns.customer_id!r} and {columns.email!r} are both blank")
            customer_id = f"email-sha256:{address_key(email)}"
        return self._response(
            source_id=source_id,
            survey_type=_cell(row, columns.survey_type) or columns.default_survey_type,
            raw_score=_cell(row, columns.score),
            created=_timestamp(_cell(row, columns.timestamp), columns.timestamp, columns.time_zone),
            updated=None,
            comment=_cell(row, columns.comment),
            customer_id=customer_id,
            properties=row,
            tags=_tags((_cell(row, columns.tags) or "").split(",")),
            notes=_notes([_cell(row, columns.notes)]),
        )

    # -- shared --------------------------------------------------------------------------------
    def _response(
        self,
        *,
        source_id: str,
        survey_type: str,
        raw_score: Any,
        created: datetime,
        updated: datetime | None,
        comment: Any,
        customer_id: str,
        properties: dict[str, Any],
        tags: tuple[str, ...],
        notes: tuple[str, ...],
    ) -> ImportedResponse:
        if survey_type not in self.programs:
            raise Rejected(f"survey_type {survey_type[:32]!r} has no program in the mapping")
        program_id, npsloop_type = self.programs[survey_type]
        score = _score(raw_score, npsloop_type)
        if comment is not None and not isinstance(comment, str):
            raise Rejected("comment is not text")
        cleaned = parse_comment_or_reject(comment)
        context = {}
        for key, prop in self.mapping.context.items():
            value = _plain(properties.get(prop))
            if value:
                context[key] = value
        locale = (_plain(properties.get(self.mapping.customer.locale)) or self.mapping.customer.default_locale)[:2]
        vip_value = _plain(properties.get(self.mapping.customer.vip)) if self.mapping.customer.vip else None
        try:
            response = Response(
                invitation_id=invitation_id_for(program_id, f"import:{self.mapping.source}:{source_id}"),
                program_id=program_id,
                program_version=IMPORTED_PROGRAM_VERSION,
                survey_type=npsloop_type,
                customer_id=customer_id,
                locale=locale.lower(),
                context=context,
                vip=(vip_value or "").lower() in {"true", "yes", "1"},
                score=score,
                comment=cleaned,
                version=1,
                created_at=created,
                updated_at=max(created, updated or created),
            )
        except ValidationError as exc:
            fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()}))
            raise Rejected(f"not a valid response ({fields})") from None
        return ImportedResponse(response, self.mapping.source, source_id, tags, notes)


def parse_comment_or_reject(comment: str | None) -> str | None:
    cleaned = parse_comment(comment) if comment is not None else None
    if cleaned is not None and len(cleaned) > MAX_COMMENT_LENGTH:
        raise Rejected(f"comment longer than {MAX_COMMENT_LENGTH} characters (the live limit)")
    return cleaned


def _object(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise Rejected(f"expected a JSON object, found {type(record).__name__}")
    return record


def _plain(value: Any) -> str | None:
    """A property value as text (numbers too); None for blanks and for objects and lists."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None


def _text(data: dict[str, Any], name: str, required: bool = False) -> str:
    value = _plain(data.get(name))
    if value is None and required:
        raise Rejected(f"{name} is missing")
    return value or ""


def _cell(row: dict[str, str | None], column: str) -> str | None:
    if not column:
        return None
    value = row.get(column)
    return value.strip() or None if isinstance(value, str) else None


def _score(raw: Any, survey_type: SurveyType) -> int:
    scale = SCALES[survey_type]
    if isinstance(raw, bool):
        raise Rejected("score is not a number")
    if isinstance(raw, str) and raw.strip().lstrip("-").isdecimal():
        raw = int(raw.strip())
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if not isinstance(raw, int):
        raise Rejected("score is missing or not a whole number")
    if raw not in scale:
        raise Rejected(f"score {raw} outside the {survey_type} scale {scale.low}..{scale.high}")
    return raw


def _unix(value: Any, name: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Rejected(f"{name} is missing or not unix seconds")
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        raise Rejected(f"{name} is not unix seconds") from None


def _timestamp(value: str | None, column: str, time_zone: str) -> datetime:
    if not value:
        raise Rejected(f"column {column!r} is blank")
    if value.replace(".", "", 1).isdecimal():
        return _unix(value, f"column {column!r}")
    parsed = None
    for attempt in (value, value.replace("Z", "+00:00")):
        try:
            parsed = datetime.fromisoformat(attempt)
            break
        except ValueError:
            continue
    if parsed is None:
        try:
            parsed = datetime.strptime(value, "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            raise Rejected(f"column {column!r} is not ISO 8601 or unix seconds") from None
    if parsed.tzinfo is None:
        try:
            parsed = parsed.replace(tzinfo=ZoneInfo(time_zone))
        except ZoneInfoNotFoundError:
            raise Rejected(f"csv.time_zone {time_zone!r} is not a time zone") from None
    return parsed.astimezone(UTC)


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise Rejected("tags is not a list")
    tags = [_plain(t.get("name") if isinstance(t, dict) else t) for t in value]
    return tuple(sorted({t[:128] for t in tags if t}))[:MAX_TAGS]


def _notes(value: Any) -> tuple[str, ...]:
    """Note texts only: who wrote a note (an email in Delighted) is not kept."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise Rejected("notes is not a list")
    texts = [_plain(n.get("text") if isinstance(n, dict) else n) for n in value]
    return tuple(t[:MAX_TEXT] for t in texts if t)
