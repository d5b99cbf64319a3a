"""Ports of the scoring area: folding response changes into aggregates, and reading them back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum

from npsloop.domain.aggregates import AggregateKey, DayAggregate, Delta

MAX_UPDATES_PER_CHUNK = 99  # TransactWriteItems takes 100 items: 99 aggregates and the chunk's journal entry


class ChunkOutcome(StrEnum):
    APPLIED = "applied"
    REPLAYED = "replayed"  # the journal already holds this chunk: it was applied before, nothing was written


class AggregateWriter(ABC):
    @abstractmethod
    def apply(self, journal_id: str, updates: Mapping[AggregateKey, Delta], expires_at: datetime) -> ChunkOutcome:
        """Add every delta and record ``journal_id`` in one transaction; REPLAYED when the journal has it.

        Raises on any other failure, having written nothing.
        """


class AggregateReader(ABC):
    @abstractmethod
    def read(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[DayAggregate]:
        """The day aggregates of one dimension between two days (inclusive), optionally of one value.

        One query (paged): the items read grow with days x values, never with the number of responses.
        """
