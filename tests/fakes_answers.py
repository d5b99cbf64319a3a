"""An in-memory answer index that behaves like the table's: partitions, BETWEEN, Limit before the filter."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from npsloop.domain.answers import position_of
from npsloop.domain.responses import Response
from npsloop.domain.surveys import SurveyType
from npsloop.ports.answers import AnswerBatch, AnswerIndex, AnswerSource, Narrowing

PROGRAM = "post-purchase-nps"


def answer(i: int, at: datetime, store: str = "KRK-02", score: int = 9, comment: str | None = None,
           channel: str = "web", region: str = "malopolskie") -> Response:  # fmt: skip
    return Response(
        invitation_id=f"inv-{i:05d}", program_id=PROGRAM, program_version=1, survey_type=SurveyType.NPS,
        customer_id=f"C-{i}", locale="pl", context={"store": store, "region": region, "channel": channel},
        score=score, comment=comment, version=1, created_at=at, updated_at=at,
    )  # fmt: skip


class InMemoryAnswers(AnswerIndex):
    def __init__(self, answers: Iterable[Response] = (), cases: Iterable[str] = ()) -> None:
        self.answers = list(answers)
        self.cases = set(cases)
        self.reads: list[tuple[AnswerSource, int]] = []
        self.items_read = 0

    def _in(self, source: AnswerSource, a: Response) -> bool:
        if a.program_id != source.program_id:
            return False
        if source.store is not None:
            return a.context.get("store") == source.store
        return f"{a.created_at.astimezone(UTC):%Y-%m}" == source.month

    def read(self, source: AnswerSource, low: str, high: str, limit: int, narrowing: Narrowing) -> AnswerBatch:
        self.reads.append((source, limit))
        part = sorted(
            (
                a
                for a in self.answers
                if self._in(source, a) and low <= position_of(a.created_at, a.invitation_id) <= high
            ),
            key=lambda a: position_of(a.created_at, a.invitation_id),
            reverse=True,
        )
        evaluated = part[: limit + 1]
        self.items_read += len(evaluated)

        def keep(a: Response) -> bool:
            if position_of(a.created_at, a.invitation_id) == high:
                return False
            if narrowing.scores and not narrowing.scores[0] <= a.score <= narrowing.scores[1]:
                return False
            if narrowing.channel and a.context.get("channel") != narrowing.channel:
                return False
            if narrowing.context and a.context.get(narrowing.context[0]) != narrowing.context[1]:
                return False
            return not (narrowing.comment_only and not a.comment)

        frontier = (
            position_of(evaluated[-1].created_at, evaluated[-1].invitation_id) if len(evaluated) == limit + 1 else None
        )
        return AnswerBatch([a for a in evaluated if keep(a)], frontier)

    def cases_among(self, case_ids: Iterable[str]) -> set[str]:
        return self.cases & set(case_ids)
