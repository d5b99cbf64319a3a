"""Port of the importer: put imported records into the table, each at most once."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from npsloop.importing.records import Imported

BATCH_WRITE_LIMIT = 25  # BatchWriteItem takes at most 25 put or delete requests
BATCH_GET_LIMIT = 100  # BatchGetItem reads at most 100 keys


class ImportWriter(ABC):
    @abstractmethod
    def key_of(self, record: Imported) -> tuple[str, str]:
        """The (pk, sk) the record is stored under: deterministic, so a re-import finds it."""

    @abstractmethod
    def existing(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these keys (at most BATCH_GET_LIMIT) hold an item already."""

    @abstractmethod
    def put(self, records: Sequence[Imported]) -> None:
        """Store these records (at most BATCH_WRITE_LIMIT, distinct keys), retrying what was left unprocessed.

        Raises when some are still unprocessed after the retries: nothing is reported written that was not.
        """
