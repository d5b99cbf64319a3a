"""Import survey history into an npsloop table: ``python -m npsloop.importing --table NAME SOURCES...``.

Against AWS it uses the usual credential chain (profile, environment, role) and needs
dynamodb:BatchGetItem and dynamodb:BatchWriteItem on the table; ``--endpoint-url
http://127.0.0.1:4566`` points it at the local stack (``make local``). README "Importing history".
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from npsloop.domain.programs import load_programs
from npsloop.importing.mapping import InvalidMapping, load_mapping
from npsloop.importing.records import Mapper
from npsloop.ports.importing import ImportWriter
from npsloop.services.importing import (
    Checkpoint,
    CheckpointMismatch,
    ImportService,
    ImportSummary,
    Source,
    SourceKind,
)


class ProgressLine:
    """One stderr line, rewritten in place on a terminal, printed every few seconds otherwise."""

    def __init__(self, stream: TextIO = sys.stderr, every_s: float = 5.0) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._every = 0.1 if self._tty else every_s
        self._last: dict[str, int] = {}
        self._at = -1e9

    def __call__(self, label: str, done: int, total: int, imported: int, rate: float) -> None:
        now = time.monotonic()
        finished = done >= total
        if not finished and now - self._at < self._every:
            return
        if finished and self._last.get(label) == done:
            return
        self._at, self._last[label] = now, done
        width = 30
        filled = int(width * done / max(total, 1))
        bar = f"[{'#' * filled}{'.' * (width - filled)}]"
        line = f"{label:<24} {bar} {done}/{total}  imported {imported}  {rate:,.0f} rows/s"
        self._stream.write(("\r" + line + ("\n" if finished else "")) if self._tty else line + "\n")
        self._stream.flush()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m npsloop.importing", description=__doc__)
    p.add_argument("--table", required=True, help="the stack's table (output TableName)")
    p.add_argument("--region", help="AWS region (default: the usual configuration)")
    p.add_argument("--endpoint-url", help="e.g. http://127.0.0.1:4566 for the local stack")
    sources = p.add_argument_group("sources (any number, each repeatable)")
    for kind in SourceKind:
        sources.add_argument(f"--{kind.value}", action="append", type=Path, default=[], metavar="FILE")
    p.add_argument("--mapping", type=Path, help="mapping TOML (default: npsloop/importing/delighted.toml)")
    p.add_argument("--checkpoint", type=Path, default=Path("npsloop-import.checkpoint.json"))
    p.add_argument("--rejects", type=Path, default=Path("npsloop-import.rejects.jsonl"))
    p.add_argument("--resume", action="store_true", help="carry on after each file's last committed line")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument(
        "--no-analysis",
        action="store_true",
        help="import comments without their analysis (then run: python -m npsloop.text backfill --table NAME)",
    )
    return p


def sources_of(args: argparse.Namespace) -> list[Source]:
    return [Source(kind, path) for kind in SourceKind for path in getattr(args, kind.value.replace("-", "_"))]


def run(
    argv: Sequence[str] | None = None,
    writer: ImportWriter | None = None,
    out: TextIO = sys.stdout,
    progress: Any = None,
) -> tuple[int, ImportSummary | None]:
    """The CLI's work; ``writer`` is injectable (the demo and the tests pass the local stack's)."""
    args = parser().parse_args(argv)
    sources = sources_of(args)
    if not sources:
        print("nothing to import: name at least one source file (--help)", file=sys.stderr)
        return 2, None
    missing = [str(s.path) for s in sources if not s.path.is_file()]
    if missing:
        print(f"no such file: {', '.join(missing)}", file=sys.stderr)
        return 2, None
    try:
        mapping = load_mapping(args.mapping)
        programs = mapping.check_against(load_programs())
    except InvalidMapping as exc:
        print(f"mapping: {exc}", file=sys.stderr)
        return 2, None
    if writer is None:
        from npsloop.adapters.dynamodb_import import DynamoImportWriter

        writer = DynamoImportWriter.connect(args.table, args.region, args.endpoint_url)
    analyse = None
    if not args.no_analysis:
        from npsloop.services.analyse import InlineAnalyser
        from npsloop.text.providers import BuiltinProvider

        analyse = InlineAnalyser(BuiltinProvider)
    service = ImportService(
        writer=writer,
        mapper=Mapper(mapping, programs),
        checkpoint=Checkpoint(args.checkpoint),
        rejects_path=args.rejects,
        progress=None if args.quiet else (progress or ProgressLine()),
        analyse=analyse,
    )
    try:
        summary = service.run(sources, resume=args.resume)
    except CheckpointMismatch as exc:
        print(f"cannot resume: {exc}; run without --resume (a re-import duplicates nothing)", file=sys.stderr)
        return 2, None
    print("\n".join(summary.lines()), file=out)
    return (1 if summary.total("rejected") else 0), summary


def main(argv: Sequence[str] | None = None) -> int:
    return run(argv)[0]
