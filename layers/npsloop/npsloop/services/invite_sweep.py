"""The invitation sweep: settles invitations left pending after every retry of their event."""

from __future__ import annotations

from npsloop.clock import Clock
from npsloop.domain.invitations import UNCONFIRMED_SEND, InvitationStatus
from npsloop.observability import count, logger
from npsloop.ports import InvitationRepository

STUCK_PAGE = 100


class InvitationSweep:
    """Settles invitations left pending after every retry of their event was spent (the event is in
    the DLQ): marked failed as unconfirmed, their stamp taken off the customer's contact ledger."""

    def __init__(self, *, invitations: InvitationRepository, clock: Clock) -> None:
        self._invitations = invitations
        self._clock = clock

    def sweep(self) -> dict[str, int]:
        now = self._clock.now()
        settled = 0
        # No retry of the claiming delivery can come after its lease (CLAIM_LEASE > RETRY_HORIZON).
        for stuck, claim_token in self._invitations.stuck(now, STUCK_PAGE):
            failed = stuck.model_copy(update={"status": InvitationStatus.FAILED, "failure_reason": UNCONFIRMED_SEND})
            if self._invitations.settle_stuck(failed, claim_token):
                settled += 1
                logger.warning(
                    "stuck invitation marked failed", program=stuck.program_id, invitation_id=stuck.invitation_id
                )
                count("InvitationsUnconfirmed", program=stuck.program_id)
        return {"settled": settled}
