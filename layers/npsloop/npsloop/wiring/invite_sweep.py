"""Composition root of the invite_sweep function."""

from __future__ import annotations

from npsloop import clock
from npsloop.services.invite_sweep import InvitationSweep
from npsloop.wiring.container import component, table


@component
def invitation_sweep() -> InvitationSweep:
    return InvitationSweep(invitations=table(), clock=clock.current())
