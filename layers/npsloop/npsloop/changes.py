"""Table changes as the stream consumers see them: one ``Change`` per DynamoDB stream record.

Images are read with the deserialiser of powertools' stream data classes (``DynamoDBRecord``
uses the same one), imported alone: importing the data classes loads every event source's classes
(some 35 modules, ~10 ms of a stream consumer's cold start). Numbers come out of DynamoDB as
``Decimal``; whole numbers become ``int`` here, so images validate straight into the pydantic models
(``Response.model_validate(change.new)``).

A record that cannot be read at all raises ``UnreadableRecord``: consumers park it with the reason
and carry on with the rest of the batch (a poison record must never block a shard).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.shared.dynamodb_deserializer import TypeDeserializer

SEQUENCE_WIDTH = 40  # DynamoDB stream sequence numbers have 21 to 40 digits
_deserializer = TypeDeserializer()


class ChangeKind(StrEnum):
    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"


class UnreadableRecord(ValueError):
    """A stream record without the fields every change has; the message says which."""


@dataclass(frozen=True)
class Change:
    event_id: str
    kind: ChangeKind
    sequence_number: str
    approximate_at: datetime | None
    keys: dict[str, Any]
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    raw: Mapping[str, Any]

    @property
    def entity(self) -> str | None:
        image = self.new if self.new is not None else self.old
        value = (image or {}).get("entity")
        return value if isinstance(value, str) else None

    @property
    def ordering_key(self) -> str:
        """The sequence number zero-padded, so that string order is stream order (within a shard)."""
        return self.sequence_number.zfill(SEQUENCE_WIDTH)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, set):
        return sorted(_plain(item) for item in value)
    return value


def _image(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return _plain({name: _deserializer.deserialize(value) for name, value in attributes.items()})


def parse_change(record: Mapping[str, Any]) -> Change:
    """One Lambda DynamoDB stream record as a ``Change``; raises ``UnreadableRecord``."""
    if not isinstance(record, Mapping):
        raise UnreadableRecord("the record is not an object")
    try:
        kind = ChangeKind(str(record.get("eventName") or ""))
        stream = record.get("dynamodb")
        if stream is None:
            raise UnreadableRecord("no dynamodb section")
        sequence = stream.get("SequenceNumber")
        if not sequence or not str(sequence).isdigit():
            raise UnreadableRecord("no sequence number")
        created_epoch = stream.get("ApproximateCreationDateTime")
        created = datetime.fromtimestamp(float(created_epoch), UTC) if created_epoch is not None else None
        new = _image(stream["NewImage"]) if stream.get("NewImage") else None
        old = _image(stream["OldImage"]) if stream.get("OldImage") else None
        keys = _image(stream["Keys"]) if stream.get("Keys") else {}
    except UnreadableRecord:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UnreadableRecord(f"{type(exc).__name__}: {exc}") from exc
    if kind is not ChangeKind.REMOVE and new is None:
        raise UnreadableRecord(f"{kind.value} without NewImage (the stream must send new and old images)")
    if kind is not ChangeKind.INSERT and old is None:
        raise UnreadableRecord(f"{kind.value} without OldImage (the stream must send new and old images)")
    return Change(
        event_id=str(record.get("eventID") or ""),
        kind=kind,
        sequence_number=str(sequence),
        approximate_at=created,
        keys=keys,
        old=old,
        new=new,
        raw=record,
    )


def records_of(event: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The records of a stream event (an event without a ``Records`` list has none)."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if isinstance(records, list):
        yield from records
