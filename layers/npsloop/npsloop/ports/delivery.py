"""Ports of the delivery area: what SES's reports change in the table."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from npsloop.domain.delivery import InvitationDelivery, Suppression


class InvitationNotSettled(Exception):
    """The invitation is still pending (its sender has not recorded the send): retry later.

    Writing now would be overwritten by the sender's own write of the sent invitation.
    """


@dataclass(frozen=True)
class DeliveryRecorded:
    found: bool  # False when no invitation has that id (not ours, or deleted)
    customer_id: str | None = None


class DeliveryStore(ABC):
    @abstractmethod
    def record_delivery(self, invitation_id: str, delivery: InvitationDelivery) -> DeliveryRecorded:
        """Set the first-seen timestamps and details, and raise the status if this one ranks higher.

        Idempotent: replays and reports arriving out of order leave the same state.
        Raises InvitationNotSettled while the invitation is pending.
        """

    @abstractmethod
    def suppress(self, suppression: Suppression) -> None:
        """Put the address (by hash) on the suppression list; the first report's details win."""

    @abstractmethod
    def record_objection(self, customer_id: str, at: datetime) -> None:
        """Record that the customer objected to survey email (GDPR Art. 21); the first time wins."""
