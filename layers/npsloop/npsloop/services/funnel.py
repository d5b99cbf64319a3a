"""The survey funnel of one view: a program, a range of invitation days and one segment.

One Query per month of the range on the segment's dimension (the day items, ``AGG#<program>#<dimension>#<yyyy-mm>``,
days x values items, never growing with the number of invitations), summed into a ``Funnel``
(domain/funnel.py). Scope is the caller's business: a page asks ``Scope`` before it asks for a store's
funnel, as it does for scores.
"""

from __future__ import annotations

from datetime import date

from npsloop.domain.funnel import Funnel, funnel_of
from npsloop.ports.scoring import FunnelReader


class FunnelService:
    def __init__(self, *, reader: FunnelReader) -> None:
        self._reader = reader

    def funnel(self, program_id: str, segment: tuple[str, str], first: date, last: date) -> Funnel:
        """The funnel of ``segment`` (``ViewFilters.segment``: ``("all", "all")``, ``("store", "KRK-02")``...)."""
        dimension, value = segment
        days = self._reader.read_funnel(program_id, dimension, first, last, value)
        return funnel_of(days, dimension, value, first, last)
