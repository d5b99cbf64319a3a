"""The analytics export: table changes as the rows of the Glue tables ``responses`` and ``invitations``.

The row models match the Glue columns in template.yaml one for one (``extra="forbid"``): a column added
there without a field here, or the reverse, fails the unit test that compares them. The partition
``dt`` (UTC day of ``created_at``) is part of the S3 key, never of the row, as Hive layouts want.

What never leaves: the customer id (replaced by an HMAC pseudonym under a key that is not in the
export), email addresses and phone numbers (the invitation's contact details are not columns, and any
that an upstream system put into the context are redacted), and any personal data a customer typed
into a comment: the comment is exported masked (``npsloop.text.masking``, issue 12), with its sentiment
and themes once the analyse function has judged it (that MODIFY exports the row again).

Every change becomes one row carrying ``change_seq`` (the zero-padded stream sequence number); the
Athena queries keep the latest row per id, so duplicates from redelivered batches are harmless and a
removed response is a *tombstone* row (``deleted: true``) that hides the earlier ones.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from npsloop.changes import Change, ChangeKind
from npsloop.domain.invitations import InvitationStatus
from npsloop.domain.responses import Response, masked_comment

# An address anywhere in a text, and a phone number: 9 to 15 digits with the usual separators.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PHONE = re.compile(r"(?<![\w+])\+?\d(?:[\s().-]{0,2}\d){8,14}(?!\w)")
EMAIL_PLACEHOLDER = "[email]"
PHONE_PLACEHOLDER = "[phone]"


class ExportTable(StrEnum):
    """The Glue tables, which are also the top-level prefixes in the export bucket."""

    RESPONSES = "responses"
    INVITATIONS = "invitations"


class UnexportableChange(ValueError):
    """A change whose image cannot become a row; the message names the fields, never their values."""


def redact(text: str | None) -> str | None:
    """The text with email addresses and phone numbers replaced by placeholders."""
    if not text:
        return text
    return _PHONE.sub(PHONE_PLACEHOLDER, _EMAIL.sub(EMAIL_PLACEHOLDER, text))


class Pseudonymiser:
    """HMAC-SHA256 of the customer id, hex: stable per customer under one key, unlinkable without it."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the pseudonym key is empty")
        self._key = key

    def __call__(self, customer_id: str) -> str:
        return hmac.new(self._key, customer_id.encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # never show the key in a log or a traceback
        return "Pseudonymiser(<key>)"


def iso_utc(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def partition_day(instant: datetime) -> str:
    """The ``dt`` partition value: the UTC day, yyyy-MM-dd (the aggregates use UTC days too)."""
    return instant.astimezone(UTC).date().isoformat()


class ResponseRow(BaseModel):
    """One row of the Glue table ``responses``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    response_id: str
    program_id: str
    program_version: int
    survey_type: str
    customer_pseudonym: str
    locale: str
    store: str | None
    region: str | None
    channel: str | None
    context: dict[str, str]
    vip: bool
    score: int
    comment: str | None  # masked: personal data replaced by typed placeholders ([phone], [person_name]...)
    sentiment: str | None  # of the comment's current analysis (none until analysed)
    themes: list[str]
    version: int
    created_at: str
    updated_at: str
    deleted: bool
    change_seq: str


class InvitationRow(BaseModel):
    """One row of the Glue table ``invitations``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    invitation_id: str
    program_id: str
    program_version: int
    survey_type: str
    customer_pseudonym: str
    locale: str
    store: str | None
    region: str | None
    channel: str | None
    status: str
    skip_reason: str | None
    delivery_status: str | None
    created_at: str
    sent_at: str | None
    change_seq: str


class _InvitationImage(BaseModel):
    """What the export reads from an invitation item (the delivery function adds ``delivery_status``)."""

    invitation_id: str
    program_id: str
    program_version: int
    survey_type: str
    customer_id: str
    locale: str
    context: dict[str, str] = {}
    status: InvitationStatus
    skip_reason: str | None = None
    delivery_status: str | None = None
    created_at: AwareDatetime
    sent_at: AwareDatetime | None = None


@dataclass(frozen=True)
class ExportRow:
    """A row, where it goes (table and ``dt``) and the stream record it came from."""

    table: ExportTable
    dt: str
    row: ResponseRow | InvitationRow
    sequence_number: str  # as in the record: what batchItemFailures must name
    event_id: str

    @property
    def change_seq(self) -> str:
        return self.row.change_seq


def _describe(exc: ValidationError) -> str:
    """Which fields were wrong and how, without their values (they may be personal data)."""
    return "; ".join(f"{'.'.join(str(p) for p in error['loc']) or '<root>'}: {error['type']}" for error in exc.errors())


def _segments(context: dict[str, str]) -> dict[str, Any]:
    return {name: context.get(name) for name in ("store", "region", "channel")}


def _clean_context(context: dict[str, str]) -> dict[str, str]:
    return {key: redact(value) or "" for key, value in context.items()}


def response_row(image: dict[str, Any], change_seq: str, pseudonym: Callable[[str], str], deleted: bool) -> ResponseRow:
    try:
        response = Response.model_validate(image)
    except ValidationError as exc:
        raise UnexportableChange(f"response image: {_describe(exc)}") from None
    analysis = response.current_analysis
    return ResponseRow(
        response_id=response.invitation_id,
        program_id=response.program_id,
        program_version=response.program_version,
        survey_type=response.survey_type.value,
        customer_pseudonym=pseudonym(response.customer_id),
        locale=response.locale,
        **_segments(response.context),
        context=_clean_context(response.context),
        vip=response.vip,
        score=response.score,
        comment=masked_comment(response),
        sentiment=analysis.sentiment if analysis else None,
        themes=list(analysis.themes) if analysis else [],
        version=response.version,
        created_at=iso_utc(response.created_at),
        updated_at=iso_utc(response.updated_at),
        deleted=deleted,
        change_seq=change_seq,
    )


def _invitation(image: dict[str, Any]) -> _InvitationImage:
    try:
        return _InvitationImage.model_validate(image)
    except ValidationError as exc:
        raise UnexportableChange(f"invitation image: {_describe(exc)}") from None


def invitation_row(image: _InvitationImage, change_seq: str, pseudonym: Callable[[str], str]) -> InvitationRow:
    return InvitationRow(
        invitation_id=image.invitation_id,
        program_id=image.program_id,
        program_version=image.program_version,
        survey_type=image.survey_type,
        customer_pseudonym=pseudonym(image.customer_id),
        locale=image.locale,
        **_segments(image.context),
        status=image.status.value,
        skip_reason=image.skip_reason,
        delivery_status=image.delivery_status,
        created_at=iso_utc(image.created_at),
        sent_at=iso_utc(image.sent_at) if image.sent_at else None,
        change_seq=change_seq,
    )


def _same_row(old: BaseModel, new: BaseModel) -> bool:
    return old.model_dump(exclude={"change_seq"}) == new.model_dump(exclude={"change_seq"})


def _response_change(change: Change, pseudonym: Callable[[str], str]) -> ResponseRow | None:
    seq = change.ordering_key
    if change.kind is ChangeKind.REMOVE:
        return response_row(change.old or {}, seq, pseudonym, deleted=True)
    row = response_row(change.new or {}, seq, pseudonym, deleted=False)
    if change.kind is ChangeKind.MODIFY:
        try:
            before = response_row(change.old or {}, seq, pseudonym, deleted=False)
        except UnexportableChange:
            return row
        if _same_row(before, row):
            return None  # another function annotated the item; nothing analysts see changed
    return row


def _invitation_change(change: Change, pseudonym: Callable[[str], str]) -> InvitationRow | None:
    if change.kind is ChangeKind.REMOVE:
        return None  # invitations expire or are erased with their responses; the table has no tombstone
    image = _invitation(change.new or {})
    if image.status is InvitationStatus.PENDING:
        return None  # a claim in flight: the final status follows
    row = invitation_row(image, change.ordering_key, pseudonym)
    if change.kind is ChangeKind.MODIFY:
        try:
            before = _invitation(change.old or {})
        except UnexportableChange:
            return row
        if before.status is not InvitationStatus.PENDING and _same_row(
            invitation_row(before, change.ordering_key, pseudonym), row
        ):
            return None
    return row


def rows_for(change: Change, pseudonym: Callable[[str], str]) -> list[ExportRow]:
    """The export rows of one change (none for changes analysts do not see); raises UnexportableChange."""
    entity = change.entity
    row: ResponseRow | InvitationRow | None
    if entity == "response":
        row, table = _response_change(change, pseudonym), ExportTable.RESPONSES
    elif entity == "invitation":
        row, table = _invitation_change(change, pseudonym), ExportTable.INVITATIONS
    else:
        return []  # the stream filter lets only responses and invitations through; anything else is not ours
    if row is None:
        return []
    day = partition_day(datetime.fromisoformat(row.created_at))
    return [ExportRow(table, day, row, change.sequence_number, change.event_id)]


@dataclass(frozen=True)
class ExportObject:
    """One gzip NDJSON object: the rows of one table and day from one batch, in stream order."""

    table: ExportTable
    dt: str
    rows: tuple[ExportRow, ...]

    @property
    def key(self) -> str:
        """``<table>/dt=<day>/<first change_seq>-<last change_seq>-<hash of the event ids>.json.gz``.

        Deterministic for the content: a redelivered batch overwrites its own objects. The hash tells
        apart two batches that start and end at the same records but hold different ones in between.
        """
        first, last = self.rows[0].change_seq, self.rows[-1].change_seq
        digest = hashlib.sha256("\n".join(row.event_id or row.sequence_number for row in self.rows).encode())
        return f"{self.table.value}/dt={self.dt}/{first}-{last}-{digest.hexdigest()[:12]}.json.gz"

    def body(self) -> bytes:
        """Newline-delimited JSON, gzip with no timestamp, so equal rows give equal bytes."""
        lines = "".join(row.row.model_dump_json() + "\n" for row in self.rows)
        return gzip.compress(lines.encode(), mtime=0)


def group_rows(rows: list[ExportRow]) -> list[ExportObject]:
    """One object per (table, day), rows in stream order, objects in the order of their first row."""
    groups: dict[tuple[ExportTable, str], list[ExportRow]] = {}
    for row in sorted(rows, key=lambda r: r.change_seq):
        groups.setdefault((row.table, row.dt), []).append(row)
    return [ExportObject(table, day, tuple(members)) for (table, day), members in groups.items()]
