"""Ports of comment analysis: a cloud sentiment service an analysis provider may call."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence


class SentimentServiceFailed(RuntimeError):
    """The sentiment service could not answer (throttled, unavailable, refused); the message names the code."""


class SentimentDetector(ABC):
    @abstractmethod
    def detect(self, texts: Sequence[str], language: str) -> list[str | None]:
        """The sentiment of each (already masked) text, positive|negative|neutral|mixed, in order; None where
        the service could not judge that one text."""
