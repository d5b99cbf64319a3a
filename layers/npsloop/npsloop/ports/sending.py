"""Port of the sending guard: the switch that pauses the stack's email sending."""

from __future__ import annotations

from abc import ABC, abstractmethod


class SendingSwitch(ABC):
    @abstractmethod
    def pause(self) -> None:
        """Stop every send through the stack's configuration set. Idempotent: pausing twice is fine."""
