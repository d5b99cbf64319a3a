"""An import run: source files in, table items out, in batches, resumable, nothing lost silently.

Per file, records are mapped (``npsloop.importing.records``) and gathered a hundred at a time; the
batch's keys are read (one BatchGetItem), what is absent is put (BatchWriteItem, 25 at a time), the
batch's rejects are appended to the rejects file and only then the checkpoint moves to the batch's
last line. A crash anywhere leaves the checkpoint at a batch whose writes are all done: ``--resume``
carries on after it, and what the interrupted batch had written is found and skipped. So every row
ends up imported, skipped (its item was there already) or rejected (with its line and reason), and a
re-import writes nothing. A reject may appear twice in the rejects file after a crash, never not at all.

The comments of a batch's new responses are analysed before the put (``analyse``: the one code path,
``npsloop.text.analysis.analyse``, one provider call per batch), and the response item carries its
``analysis`` as the analyse function would write it. So an imported answer reaches the stream once,
already analysed: the score function counts its themes on the INSERT, the export writes it once, and
the analyse function's filter does not take it. Without ``analyse`` (``--no-analysis``) the backfill
(``python -m npsloop.text backfill``) analyses them later.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from npsloop.domain.responses import Response, ResponseAnalysis
from npsloop.importing.records import Imported, ImportedResponse, Mapper, Rejected
from npsloop.importing.sources import Unreadable, read_csv, read_json
from npsloop.observability import logger
from npsloop.ports.importing import BATCH_GET_LIMIT, BATCH_WRITE_LIMIT, ImportWriter


class SourceKind(StrEnum):
    DELIGHTED_PEOPLE = "delighted-people"
    DELIGHTED_RESPONSES = "delighted-responses"
    DELIGHTED_UNSUBSCRIBES = "delighted-unsubscribes"
    DELIGHTED_BOUNCES = "delighted-bounces"
    DELIGHTED_CSV = "delighted-csv"
    CSV = "csv"


# People first: they only resolve the address of an unsubscribe or bounce that lacks one.
_ORDER = list(SourceKind)


class CheckpointMismatch(Exception):
    """``--resume`` was asked for, but the file is not the one the checkpoint was taken on."""


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    path: Path

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.path.resolve()}"

    def records(self) -> Iterator[tuple[int, Any]]:
        is_csv = self.kind in {SourceKind.CSV, SourceKind.DELIGHTED_CSV}
        return read_csv(self.path) if is_csv else read_json(self.path)

    def fingerprint(self) -> str:
        with self.path.open("rb") as handle:
            head = handle.read(1 << 16)
        return f"{self.path.stat().st_size}:{hashlib.sha256(head).hexdigest()}"


@dataclass
class SourceCounts:
    source: Source
    resumed_after: int = 0
    read: int = 0
    imported: int = 0
    skipped: int = 0  # already in the table (imported before, or a live item under that key)
    duplicates: int = 0  # the same record twice in the file
    rejected: int = 0
    lookup_only: int = 0  # people: read to resolve addresses, nothing stored
    analysed: int = 0  # imported with the analysis of their comment


@dataclass
class ImportSummary:
    sources: list[SourceCounts] = field(default_factory=list)
    seconds: float = 0.0
    rejects_path: Path | None = None

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.sources)

    @property
    def rows_per_second(self) -> float:
        return self.total("read") / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        out = [f"{'source':<44}{'read':>9}{'imported':>10}{'skipped':>9}{'rejected':>10}"]
        for s in self.sources:
            name = f"{s.source.kind.value} {s.source.path.name}"[:43]
            skipped = s.skipped + s.duplicates + s.lookup_only
            out.append(f"{name:<44}{s.read:>9}{s.imported:>10}{skipped:>9}{s.rejected:>10}")
            if s.resumed_after:
                out.append(f"  (resumed after line {s.resumed_after})")
            if s.duplicates:
                out.append(f"  ({s.duplicates} repeated within the file)")
            if s.lookup_only:
                out.append(f"  ({s.lookup_only} people read to resolve addresses; npsloop keeps no contact list)")
        out.append(
            f"{'total':<44}{self.total('read'):>9}{self.total('imported'):>10}"
            f"{self.total('skipped') + self.total('duplicates') + self.total('lookup_only'):>9}"
            f"{self.total('rejected'):>10}"
        )
        if self.total("analysed"):
            out.append(f"comments analysed: {self.total('analysed')}")
        out.append(f"rows read: {self.total('read')} in {self.seconds:.1f} s, {self.rows_per_second:,.0f} rows/s")
        if self.total("rejected"):
            out.append(f"rejected rows, with line and reason: {self.rejects_path}")
        return out


class Checkpoint:
    """The last committed line per source file, in a small JSON file rewritten atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._state: dict[str, dict[str, Any]] = {}
        # Each file's fingerprint as this run first saw it: taken once, not at every batch (a 64 KiB read
        # and a hash per commit), and a file changed under a running import then fails its --resume.
        self._fingerprints: dict[str, str] = {}
        if path.exists():
            self._state = json.loads(path.read_text(encoding="utf-8"))

    def committed(self, source: Source) -> int:
        entry = self._state.get(source.key)
        if entry is None:
            return 0
        if entry.get("fingerprint") != self.fingerprint(source):
            raise CheckpointMismatch(f"{source.path} changed since the checkpoint in {self.path}")
        return int(entry["line"])

    def commit(self, source: Source, line: int) -> None:
        self._state[source.key] = {"line": line, "fingerprint": self.fingerprint(source)}
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(self._state, indent=1), encoding="utf-8")
        os.replace(temporary, self.path)

    def forget(self, source: Source) -> None:
        self._state.pop(source.key, None)

    def fingerprint(self, source: Source) -> str:
        """The file's fingerprint when this run first looked at it (``ImportService`` looks just before reading it)."""
        if source.key not in self._fingerprints:
            self._fingerprints[source.key] = source.fingerprint()
        return self._fingerprints[source.key]


Progress = Callable[[str, int, int, int, float], None]  # label, done, total, imported, rows/s
Analyse = Callable[[Sequence[Response]], list[ResponseAnalysis]]  # services/analyse.py InlineAnalyser


class ImportService:
    def __init__(
        self,
        *,
        writer: ImportWriter,
        mapper: Mapper,
        checkpoint: Checkpoint,
        rejects_path: Path,
        progress: Progress | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        batch_size: int = BATCH_GET_LIMIT,
        analyse: Analyse | None = None,
    ) -> None:
        self._writer = writer
        self._mapper = mapper
        self._checkpoint = checkpoint
        self._rejects_path = rejects_path
        self._progress = progress
        self._monotonic = monotonic
        self._batch_size = min(batch_size, BATCH_GET_LIMIT)
        self._analyse = analyse

    def run(self, sources: list[Source], resume: bool = False) -> ImportSummary:
        started = self._monotonic()
        summary = ImportSummary(rejects_path=self._rejects_path)
        if not resume:
            self._rejects_path.write_text("", encoding="utf-8")
        ordered = sorted(sources, key=lambda s: _ORDER.index(s.kind))
        # Fail before writing anything when a checkpoint does not fit its file.
        starts = {source.key: self._checkpoint.committed(source) if resume else 0 for source in ordered}
        for source in ordered:
            if not resume:
                self._checkpoint.forget(source)
            counts = SourceCounts(source, resumed_after=starts[source.key])
            summary.sources.append(counts)
            self._import(source, counts, started)
            summary.seconds = self._monotonic() - started
        summary.seconds = self._monotonic() - started
        return summary

    def _import(self, source: Source, counts: SourceCounts, started: float) -> None:
        self._checkpoint.fingerprint(source)  # the file as it is read, whatever happens to it meanwhile
        records = list(source.records())
        total = len(records)
        pending: list[tuple[int, Imported]] = []
        rejects: list[dict[str, Any]] = []
        last_line = counts.resumed_after
        for done, (line, raw) in enumerate(records, start=1):
            if line <= counts.resumed_after:
                continue
            counts.read += 1
            last_line = line
            mapped = self._map(source.kind, raw)
            if isinstance(mapped, str):
                counts.rejected += 1
                rejects.append({"source": source.kind.value, "file": str(source.path), "line": line, "reason": mapped})
            elif mapped is None:
                counts.lookup_only += 1
            else:
                pending.append((line, mapped))
            if len(pending) >= self._batch_size or (not pending and len(rejects) >= self._batch_size):
                self._commit(source, counts, pending, rejects, last_line)
                pending, rejects = [], []
                self._report(source, done, total, counts, started)
        self._commit(source, counts, pending, rejects, last_line)
        self._report(source, total, total, counts, started)

    def _map(self, kind: SourceKind, raw: Any) -> Imported | str | None:
        if isinstance(raw, Unreadable):
            return raw.reason
        try:
            if kind is SourceKind.DELIGHTED_PEOPLE:
                self._mapper.delighted_person(raw)
                return None
            if kind is SourceKind.DELIGHTED_RESPONSES:
                return self._mapper.delighted_response(raw)
            if kind is SourceKind.DELIGHTED_UNSUBSCRIBES:
                return self._mapper.delighted_unsubscribe(raw)
            if kind is SourceKind.DELIGHTED_BOUNCES:
                return self._mapper.delighted_bounce(raw)
            return self._mapper.csv_response(raw)
        except Rejected as exc:
            return str(exc)

    def _commit(
        self,
        source: Source,
        counts: SourceCounts,
        pending: list[tuple[int, Imported]],
        rejects: list[dict[str, Any]],
        last_line: int,
    ) -> None:
        keys = [self._writer.key_of(record) for _, record in pending]
        there = self._writer.existing(keys)
        fresh: list[Imported] = []
        seen: set[tuple[str, str]] = set()
        for key, (_, record) in zip(keys, pending, strict=True):
            if key in there:
                counts.skipped += 1
            elif key in seen:
                counts.duplicates += 1
            else:
                seen.add(key)
                fresh.append(record)
        fresh = self._analysed(fresh, counts)
        for start in range(0, len(fresh), BATCH_WRITE_LIMIT):
            self._writer.put(fresh[start : start + BATCH_WRITE_LIMIT])
            counts.imported += len(fresh[start : start + BATCH_WRITE_LIMIT])
        if rejects:
            with self._rejects_path.open("a", encoding="utf-8") as handle:
                handle.writelines(json.dumps(reject, ensure_ascii=False) + "\n" for reject in rejects)
        if last_line > counts.resumed_after:
            self._checkpoint.commit(source, last_line)
        if rejects:
            logger.info("import rows rejected", source=source.kind.value, rejected=len(rejects))

    def _analysed(self, records: list[Imported], counts: SourceCounts) -> list[Imported]:
        """The records with the analysis of their comment set (one provider call for the batch)."""
        todo = [
            i
            for i, r in enumerate(records)
            if isinstance(r, ImportedResponse) and r.response.comment and r.response.current_analysis is None
        ]
        if self._analyse is None or not todo:
            return records
        picked = [records[i] for i in todo]
        analyses = self._analyse([r.response for r in picked if isinstance(r, ImportedResponse)])
        out = list(records)
        for i, record, analysis in zip(todo, picked, analyses, strict=True):
            assert isinstance(record, ImportedResponse)
            out[i] = replace(record, response=record.response.model_copy(update={"analysis": analysis}))
        counts.analysed += len(todo)
        return out

    def _report(self, source: Source, done: int, total: int, counts: SourceCounts, started: float) -> None:
        if self._progress is not None:
            elapsed = self._monotonic() - started
            self._progress(source.kind.value, done, total, counts.imported, counts.read / elapsed if elapsed else 0.0)
