"""Composition root of the guard function."""

from __future__ import annotations

from npsloop.adapters.ses_sending import SesSendingSwitch
from npsloop.services.guard import SendingGuard
from npsloop.wiring.container import component, settings


@component
def sending_guard() -> SendingGuard:
    config = settings()
    configuration_set, pause_on = config.require("configuration_set", "pause_on_alarms")
    return SendingGuard(switch=SesSendingSwitch(configuration_set), pause_on=pause_on.split(","))
