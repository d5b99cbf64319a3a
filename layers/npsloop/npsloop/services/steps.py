"""A side effect done once per response: claim it in the table, do it, then mark it done.

The claim is a conditional put with a lease (``AlertClaims``). A redelivered or replayed trigger
finds the claim done and skips the effect; a concurrent one finds it in flight; an attempt that
crashed before marking it done leaves a lease that runs out, and the next attempt does the effect.
Only a crash between the effect and "done" repeats it: at least once, never lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from npsloop.clock import Clock
from npsloop.observability import logger
from npsloop.ports.cases import AlertClaims, StepClaim

CLAIM_LEASE = timedelta(seconds=90)  # longer than one invocation (the alert and cases functions time out at 60 s)


class StepInFlight(Exception):
    """Another delivery holds the claim of this step; it is retried later."""


def once(claims: AlertClaims, clock: Clock, invitation_id: str, step: str, action: Callable[[], None]) -> bool:
    """Run ``action`` unless this step was done before; True if it ran. Raises ``StepInFlight``."""
    token = uuid.uuid4().hex
    now = clock.now()
    match claims.claim(invitation_id, step, token, now, now + CLAIM_LEASE):
        case StepClaim.DONE:
            logger.info("step done before", invitation_id=invitation_id, step=step)
            return False
        case StepClaim.IN_FLIGHT:
            raise StepInFlight(f"{invitation_id} {step}")
        case StepClaim.CLAIMED:
            action()
            claims.complete(invitation_id, step, token, clock.now())
            return True
