"""The clock the local stack runs on: anything with ``now()`` (``npsloop.clock.ManualClock`` also has ``advance``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

__all__ = ["Clock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...
