"""The answer index: a store's answers, or the network's of one month, newest first (docs/data-model.md)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from npsloop.domain.responses import Response


@dataclass(frozen=True)
class AnswerSource:
    """One partition of the index: a store's answers of a program, or (``store`` None) the network's of a month."""

    program_id: str
    store: str | None = None
    month: str | None = None  # yyyy-mm, for the network's partitions


@dataclass(frozen=True)
class Narrowing:
    """What the index filters on after its key condition (DynamoDB still reads what it filters out)."""

    scores: tuple[int, int] | None = None  # inclusive
    channel: str | None = None
    context: tuple[str, str] | None = None  # (key, value) of ctx.<key>
    comment_only: bool = False


@dataclass(frozen=True)
class AnswerBatch:
    answers: list[Response]  # newest first
    frontier: str | None  # the source was read down to this position; None: nothing more in the range


class AnswerIndex(ABC):
    @abstractmethod
    def read(self, source: AnswerSource, low: str, high: str, limit: int, narrowing: Narrowing) -> AnswerBatch:
        """Answers with ``low <= position < high``, newest first: at most ``limit`` + 1 read from the index."""

    @abstractmethod
    def cases_among(self, case_ids: Iterable[str]) -> set[str]:
        """Which of these ids (invitation ids) have a follow-up case."""
