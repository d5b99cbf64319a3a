"""Ports of the scoring area: folding response changes into aggregates, and reading them back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from npsloop.domain.aggregates import AggregateKey, AnyDelta, DayAggregate
    from npsloop.domain.funnel import FunnelDay
    from npsloop.domain.themes import ThemeDay

# Aggregate keys per chunk: at most one UpdateItem each (new past days' keys go by transactions of 100), so
# this bounds a chunk's time (and a redelivery's work). A batch of history (1,000 answers, about 12 days of
# a 20-store year) is then one or two chunks: a day's keys split between chunks are written once per chunk.
MAX_UPDATES_PER_CHUNK = 1000


@dataclass(frozen=True)
class ChunkJournal:
    """A chunk's journal entry: how many records it spans from its anchor, and whether it is done."""

    records: int
    last_event_id: str
    done: bool
    created: bool  # False: an earlier delivery opened it (the chunk is adopted as it was)


class AggregateWriter(ABC):
    @abstractmethod
    def open_chunk(self, journal_id: str, records: int, last_event_id: str, expires_at: datetime) -> ChunkJournal:
        """Create the chunk's journal entry if absent; either way return the entry as stored."""

    @abstractmethod
    def add(
        self, journal_id: str, key: AggregateKey, delta: AnyDelta, mark_expires_at: datetime, now: datetime
    ) -> bool:
        """Add ``delta`` to one aggregate with the chunk's mark, unless the mark is there: False then.

        Raises on any other failure (the write may or may not have happened; the mark tells next time).
        """

    def create_all(
        self, journal_id: str, items: Sequence[tuple[AggregateKey, AnyDelta]], mark_expires_at: datetime, now: datetime
    ) -> set[AggregateKey]:
        """Create, in one go, those of ``items`` that are certainly absent, with the chunk's mark; return them.

        Optional: it may create none (the default), and ``add`` then writes each key. All or nothing.
        """
        return set()

    @abstractmethod
    def close_chunk(self, journal_id: str) -> None:
        """Mark the chunk done: a redelivery of it writes nothing, and its marks may be dropped."""

    @abstractmethod
    def checkpoint(self, shard_id: str) -> str | None:
        """The last sequence number of the shard whose change is in the aggregates (None: none yet)."""

    @abstractmethod
    def advance_checkpoint(self, shard_id: str, sequence_number: str, expires_at: datetime) -> None:
        """Move the shard's checkpoint forward to ``sequence_number`` (never back)."""


class AggregateReader(ABC):
    @abstractmethod
    def read(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[DayAggregate]:
        """The day aggregates of one dimension between two days (inclusive), optionally of one value.

        One query (paged): the items read grow with days x values, never with the number of responses.
        """


class FunnelReader(ABC):
    @abstractmethod
    def read_funnel(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[FunnelDay]:
        """The funnel days of one dimension between two invitation days (inclusive), optionally of one value.

        One query (paged): the items read grow with days x values, never with the number of invitations.
        """


class ThemeReader(ABC):
    @abstractmethod
    def read_themes(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[ThemeDay]:
        """The theme days (domain/themes.py) of one dimension between two days (inclusive), optionally of one value.

        One query (paged): the items read grow with days x values, never with the number of comments.
        """
