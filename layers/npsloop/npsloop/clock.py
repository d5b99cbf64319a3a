"""Time as a dependency: production reads the system clock, the demo and tests drive their own."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: simulated days pass in microseconds."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = instant.astimezone(UTC)


_installed: Clock | None = None


def install(clock: Clock | None) -> None:
    """Make ``clock`` the process-wide clock (the local stack and demo do this); None restores the system's."""
    global _installed  # noqa: PLW0603
    _installed = clock


def current() -> Clock:
    return _installed or _SYSTEM


_SYSTEM = SystemClock()
