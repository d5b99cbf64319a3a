"""Comment analysis of stored responses: the analyse function's stream step, and the backfill (issue 12 §3).

A response whose comment has no analysis of its current text (``Response.current_analysis``) is masked
and judged by the provider (``npsloop.text.analysis.analyse``, the one code path), and the result is
written onto the response item with a condition (adapters/dynamodb_analysis.py): the comment is still
the one analysed, and no analysis of this text (stream) or of this version (backfill) is there. So a
comment is analysed once per (text, version): a replayed record finds the analysis and is skipped
before the model is even loaded, a replay that races its first delivery is refused by the condition,
and the stream step never re-analyses an unchanged text with another version (that is the backfill's
job, run when the version changes), so a function still running an older model cannot undo a backfill.

The analysis write is a MODIFY on the stream: the score function folds it into the theme aggregates
(domain/themes.py) and the alert function matches theme rules on it.

Poison records (unreadable, not a valid response) are parked with the reason, ids only in logs; a
failed write reports its record in ``batchItemFailures`` and Lambda retries from it (earlier writes
are refused by their condition on the retry: nothing is written twice).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from npsloop.changes import UnreadableRecord, parse_change, records_of
from npsloop.domain.responses import Response, ResponseAnalysis, text_hash
from npsloop.observability import count, logger
from npsloop.ports import EventParking
from npsloop.ports.text import AnalysisStore
from npsloop.text.analysis import Comment, CommentAnalysis, analyse
from npsloop.text.providers import AnalysisProvider, Language

BATCH = 64  # comments judged per model call


def language_of(locale: str) -> Language:
    """The analysis language of a response's locale: Polish for pl*, English otherwise."""
    return "pl" if locale.lower().startswith("pl") else "en"


def comment_of(response: Response) -> Comment:
    assert response.comment
    return Comment(
        response.invitation_id,
        language_of(response.locale),
        response.comment,
        response.survey_type.value,
        response.score,
    )


def stored(result: CommentAnalysis, comment: str) -> ResponseAnalysis:
    return ResponseAnalysis(
        sentiment=result.sentiment,
        themes=result.themes,
        masked=result.masked_text,
        provider=result.provider,
        model_version=result.model_version,
        taxonomy_version=result.taxonomy_version,
        analysed_text_hash=text_hash(comment),
    )


def analyses_of(responses: Sequence[Response], provider: AnalysisProvider) -> list[ResponseAnalysis]:
    """The analyses of these responses' comments, in one provider call: what ``save_analysis`` would write."""
    results = analyse([comment_of(r) for r in responses], provider)
    return [stored(result, r.comment or "") for r, result in zip(responses, results, strict=True)]


class InlineAnalyser:
    """The importer's analysis of the comments it puts (the provider loaded at the first comment).

    An export repeats its short comments ("Super", "Great service, thanks") many times: each distinct
    comment (text, language, survey and score: the model's whole input) is judged once per import, and a
    repeat gets the same analysis (the model is deterministic). At most ``MEMO`` comments are remembered.
    """

    MEMO = 20_000

    def __init__(self, provider: Callable[[], AnalysisProvider]) -> None:
        self._factory = provider
        self._provider: AnalysisProvider | None = None
        self._memo: OrderedDict[tuple[Language, str, str, int], ResponseAnalysis] = OrderedDict()
        self.judged = 0  # comments the provider judged (the rest were repeats)

    def __call__(self, responses: Sequence[Response]) -> list[ResponseAnalysis]:
        keys = [_input_of(r) for r in responses]
        new = {key: r for key, r in zip(keys, responses, strict=True) if key not in self._memo}
        if new:
            if self._provider is None:
                self._provider = self._factory()
            for key, analysis in zip(new, analyses_of(list(new.values()), self._provider), strict=True):
                self._memo[key] = analysis
            self.judged += len(new)
        for key in keys:
            self._memo.move_to_end(key)
        while len(self._memo) > self.MEMO:
            self._memo.popitem(last=False)
        return [self._memo[key] for key in keys]


def _input_of(response: Response) -> tuple[Language, str, str, int]:
    comment = comment_of(response)
    return (comment.lang, comment.text, comment.survey, comment.score)


@dataclass
class AnalyseOutcome:
    failures: list[str] = field(default_factory=list)
    analysed: int = 0  # written
    refused: int = 0  # judged, but the condition refused the write (a replay, a changed comment)
    skipped: int = 0  # nothing to analyse: no comment, or its current text already analysed
    parked: int = 0

    def response(self) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in self.failures]}


class AnalyseService:
    def __init__(
        self, *, store: AnalysisStore, provider: Callable[[], AnalysisProvider], parking: EventParking
    ) -> None:
        self._store = store
        self._provider = provider  # loaded at the first comment to analyse, not at cold start
        self._parking = parking

    def handle(self, event: Mapping[str, Any]) -> AnalyseOutcome:
        outcome = AnalyseOutcome()
        todo: list[tuple[str, Response]] = []  # (sequence number, response), in stream order
        for record in records_of(event):
            try:
                change = parse_change(record)
            except UnreadableRecord as exc:
                self._park(record, f"unreadable stream record: {exc}", outcome)
                continue
            if change.entity != "response" or change.new is None:
                outcome.skipped += 1
                continue
            try:
                response = Response.model_validate(change.new)
            except ValidationError as exc:
                fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()}))
                logger.warning("poison stream record", event_id=change.event_id, reason=f"invalid ({fields})")
                self._park(record, f"not a valid response ({fields})", outcome)
                continue
            if not response.comment or response.current_analysis is not None:
                outcome.skipped += 1
                continue
            todo.append((change.sequence_number, response))
        for part in _parts(todo, BATCH):
            if not self._analyse(part, outcome):
                break
        return outcome

    def _analyse(self, part: Sequence[tuple[str, Response]], outcome: AnalyseOutcome) -> bool:
        try:
            results = analyse([comment_of(r) for _, r in part], self._provider())
        except Exception:
            logger.exception("analysis failed; Lambda retries from the first comment", first=part[0][1].invitation_id)
            outcome.failures.append(part[0][0])
            return False
        for (sequence, response), result in zip(part, results, strict=True):
            assert response.comment
            try:
                written = self._store.save_analysis(
                    response.invitation_id, response.comment, stored(result, response.comment), other_versions=False
                )
            except Exception:
                logger.exception("analysis not written; Lambda retries from it", invitation_id=response.invitation_id)
                outcome.failures.append(sequence)
                return False
            if written:
                outcome.analysed += 1
                count("CommentsAnalysed")
            else:
                outcome.refused += 1
        return True

    def _park(self, record: Mapping[str, Any], reason: str, outcome: AnalyseOutcome) -> None:
        self._parking.park(dict(record) if isinstance(record, Mapping) else {"record": repr(record)}, reason)
        outcome.parked += 1
        count("AnalyseRecordsParked")


def _parts(items: Sequence[tuple[str, Response]], size: int) -> Iterator[Sequence[tuple[str, Response]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
