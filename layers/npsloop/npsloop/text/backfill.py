"""Re-analyse stored comments whose analysis is not of the current version (issue 12 §2, "Versioning").

    python -m npsloop.text backfill --table npsloop-dev [--program post-purchase-nps] [--checkpoint FILE]

Reads the table's responses with a comment page by page (a Scan), re-analyses those whose analysis is
missing, of another text, or of another provider / model / taxonomy version, and writes each through
the same conditional update as the analyse function (adapters/dynamodb_analysis.py): the comment must
be unchanged and the analysis not already of this version. So it is idempotent (a second run finds
nothing to do and writes nothing), safe beside the live function, and every write is a MODIFY on the
stream that moves the theme aggregates from the old analysis to the new one, exactly once.

Resumable: after each page the position and the counts so far go to the checkpoint file; a run
started again with the same file goes on from there (delete it to start over). Progress: a bar on
stderr, with pages, comments seen and re-analysed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from npsloop.domain.responses import Response
from npsloop.ports.text import AnalysisStore
from npsloop.services.analyse import comment_of, stored
from npsloop.text.analysis import analyse
from npsloop.text.providers import AnalysisProvider

PAGE = 200


@dataclass
class Progress:
    pages: int = 0
    seen: int = 0
    analysed: int = 0  # written
    current: int = 0  # already of the current version
    refused: int = 0  # the condition refused it (changed meanwhile, or the live function got there first)
    done: bool = False


def _is_current(response: Response, provider: str, model_version: str, taxonomy_version: str) -> bool:
    a = response.current_analysis
    return a is not None and (a.provider, a.model_version, a.taxonomy_version) == (
        provider,
        model_version,
        taxonomy_version,
    )


def backfill(
    store: AnalysisStore,
    provider: AnalysisProvider,
    *,
    version: tuple[str, str, str],
    program_id: str | None = None,
    checkpoint: Path | None = None,
    page_size: int = PAGE,
    report: Callable[[Progress], None] | None = None,
) -> Progress:
    """Run (or resume) the backfill; ``version`` is (provider, model version, taxonomy version) of ``provider``."""
    progress, start = Progress(), None
    if checkpoint is not None and checkpoint.exists():
        saved = json.loads(checkpoint.read_text(encoding="utf-8"))
        progress, start = Progress(**saved["progress"]), saved["start"]
        if progress.done:
            return progress
    while True:
        responses, start = store.commented_responses(program_id, start, page_size)
        progress.pages += 1
        progress.seen += len(responses)
        stale = [r for r in responses if not _is_current(r, *version)]
        progress.current += len(responses) - len(stale)
        if stale:
            results = analyse([comment_of(r) for r in stale], provider)
            for response, result in zip(stale, results, strict=True):
                assert response.comment
                written = store.save_analysis(
                    response.invitation_id, response.comment, stored(result, response.comment), other_versions=True
                )
                if written:
                    progress.analysed += 1
                else:
                    progress.refused += 1
        progress.done = start is None
        if checkpoint is not None:
            checkpoint.write_text(json.dumps({"progress": asdict(progress), "start": start}), encoding="utf-8")
        if report is not None:
            report(progress)
        if progress.done:
            return progress


def bar(out: TextIO = sys.stderr, width: int = 30) -> Callable[[Progress], None]:
    """A progress line rewritten in place (a Scan has no known total: the bar turns, the counts grow)."""

    def show(p: Progress) -> None:
        filled = width if p.done else p.pages % (width + 1)
        line = "#" * filled + "." * (width - filled)
        out.write(
            f"\r[{line}] pages {p.pages}  comments {p.seen}  re-analysed {p.analysed}"
            f"  current {p.current}  refused {p.refused}"
        )
        if p.done:
            out.write("\n")
        out.flush()

    return show


def run(table: str, program_id: str | None, checkpoint: Path, client: Any | None = None) -> Progress:
    from npsloop.adapters.dynamodb_analysis import DynamoAnalyses
    from npsloop.text.providers import BuiltinProvider
    from npsloop.text.taxonomy import load_taxonomy

    provider = BuiltinProvider()  # refuses a model of another taxonomy than themes.toml's
    version = (provider.name, provider.model_version, load_taxonomy().version)
    return backfill(
        DynamoAnalyses(table, client),
        provider,
        version=version,
        program_id=program_id,
        checkpoint=checkpoint,
        report=bar(),
    )
