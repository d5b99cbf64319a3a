"""export: each stream batch of response and invitation changes -> gzip NDJSON objects in S3 for Athena.

Delivery is at least once, so every write is safe to repeat: an object's key is derived from its rows
(a redelivered batch overwrites its own objects), and the Athena queries keep the latest row per id
(a differently cut redelivery only adds duplicates they ignore).

A record that can never be exported is logged with why and parked in the export DLQ; the rest of the
batch goes through. A failed put reports the lowest sequence number among the failed objects' records,
so Lambda resumes from there (rewriting the objects after it is harmless, see above).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from npsloop.changes import UnreadableRecord, parse_change, records_of
from npsloop.domain.export import ExportObject, ExportRow, Pseudonymiser, UnexportableChange, group_rows, rows_for
from npsloop.observability import count, logger
from npsloop.ports import EventParking
from npsloop.ports.export import ExportSink, ExportWriteFailed, PseudonymKeyStore


@dataclass
class BatchOutcome:
    objects: list[ExportObject] = field(default_factory=list)
    failed: list[ExportObject] = field(default_factory=list)
    parked: int = 0

    def lambda_response(self) -> dict[str, Any]:
        if not self.failed:
            return {"batchItemFailures": []}
        first = min((row for obj in self.failed for row in obj.rows), key=lambda row: row.change_seq)
        return {"batchItemFailures": [{"itemIdentifier": first.sequence_number}]}


class ExportService:
    def __init__(self, keys: PseudonymKeyStore, sink: ExportSink, parking: EventParking) -> None:
        self._keys = keys
        self._sink = sink
        self._parking = parking

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The Lambda handler's work: ``{"batchItemFailures": [...]}``."""
        return self.export(event).lambda_response()

    def export(self, event: Mapping[str, Any]) -> BatchOutcome:
        outcome = BatchOutcome()
        rows = self._rows(event, outcome)
        outcome.objects = group_rows(rows)
        for obj in outcome.objects:
            try:
                self._sink.put(obj.key, obj.body())
            except ExportWriteFailed as exc:
                logger.error("export object not written", key=obj.key, rows=len(obj.rows), error=str(exc))
                count("ExportWriteFailed")
                outcome.failed.append(obj)
        logger.info(
            "export batch done",
            objects=len(outcome.objects),
            rows=len(rows),
            failed=len(outcome.failed),
            parked=outcome.parked,
        )
        return outcome

    def _rows(self, event: Mapping[str, Any], outcome: BatchOutcome) -> list[ExportRow]:
        pseudonym: Pseudonymiser | None = None
        rows: list[ExportRow] = []
        for record in records_of(event):
            try:
                change = parse_change(record)
            except UnreadableRecord as exc:
                self._park(record, f"unreadable stream record: {exc}", outcome)
                continue
            if pseudonym is None:  # read the key only for a batch that has something to export
                pseudonym = Pseudonymiser(self._keys.pseudonym_key())
            try:
                rows.extend(rows_for(change, pseudonym))
            except UnexportableChange as exc:
                self._park(record, str(exc), outcome, sequence_number=change.sequence_number)
        return rows

    def _park(self, record: Any, reason: str, outcome: BatchOutcome, sequence_number: str | None = None) -> None:
        logger.warning("export record parked", reason=reason, sequence_number=sequence_number)
        count("ExportRecordParked")
        self._parking.park(record, reason)
        outcome.parked += 1
