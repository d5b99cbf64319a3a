"""Ports of comment analysis: a cloud sentiment service an analysis provider may call."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from npsloop.domain.responses import Response, ResponseAnalysis


class SentimentServiceFailed(RuntimeError):
    """The sentiment service could not answer (throttled, unavailable, refused); the message names the code."""


class SentimentDetector(ABC):
    @abstractmethod
    def detect(self, texts: Sequence[str], language: str) -> list[str | None]:
        """The sentiment of each (already masked) text, positive|negative|neutral|mixed, in order; None where
        the service could not judge that one text."""


class AnalysisStore(ABC):
    """Where a response's comment analysis is kept: on the response item itself."""

    @abstractmethod
    def save_analysis(
        self, invitation_id: str, comment: str, analysis: ResponseAnalysis, *, other_versions: bool
    ) -> bool:
        """Set the analysis if the response still carries ``comment`` and has no analysis of this text
        (``other_versions``: or has one of another provider, model or taxonomy version, as the backfill
        replaces). False when the condition refused it: a replay, a newer analysis, a changed comment."""

    @abstractmethod
    def commented_responses(
        self, program_id: str | None, start: dict[str, Any] | None, page_size: int
    ) -> tuple[list[Response], dict[str, Any] | None]:
        """One page of stored responses with a comment (of one program if given), and where the next starts."""
