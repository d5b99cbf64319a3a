"""Amazon SES (v2 API): the stack's configuration set's sending switch.

With sending disabled, SES refuses every send through the set (SESv2 ``SendEmail`` answers
``SendingPausedException``) until an operator enables it again (README, "Operating").
"""

from __future__ import annotations

from typing import Any

import boto3

from npsloop.ports.sending import SendingSwitch


class SesSendingSwitch(SendingSwitch):
    def __init__(self, configuration_set: str, client: Any | None = None) -> None:
        self._configuration_set = configuration_set
        self._client = client or boto3.client("sesv2")

    def pause(self) -> None:
        self._client.put_configuration_set_sending_options(
            ConfigurationSetName=self._configuration_set, SendingEnabled=False
        )
