"""Amazon SES (v2 API): raw MIME messages, sent through the stack's configuration set.

SES has no idempotency key, so the client never retries a request on its own: botocore would repeat
a SendEmail whose answer timed out, and SES may have accepted the first one. We retry only what SES
answered with a refusal to take the message now (throttling), so no retry can send twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from npsloop.ports import Mailer, MailRejected, MailUnavailable, OutgoingEmail

# SES did not take the message now; a later attempt may succeed. SendingPausedException is SESv2's
# answer when sending is paused for the account or the configuration set (SESv1 named them
# AccountSendingPausedException and ConfigurationSetSendingPausedException).
_THROTTLED = {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
_UNAVAILABLE = _THROTTLED | {
    "ServiceUnavailable",
    "InternalFailure",
    "SendingPausedException",
    "AccountSendingPausedException",
    "ConfigurationSetSendingPausedException",
}
# The rest mean the message will never go (bad address, unverified sender, suspended account).
THROTTLE_ATTEMPTS = 3


class SesMailer(Mailer):
    def __init__(
        self,
        configuration_set: str | None,
        client: Any | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._configuration_set = configuration_set
        self._client = client or boto3.client("sesv2", config=Config(retries={"total_max_attempts": 1}))
        self._sleep = sleep

    def send(self, email: OutgoingEmail) -> str:
        request: dict[str, Any] = {
            "FromEmailAddress": email.sender,
            "Destination": {"ToAddresses": [email.recipient]},
            "Content": {"Raw": {"Data": email.raw}},
            "EmailTags": [{"Name": name, "Value": value} for name, value in email.tags.items()],
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        for attempt in range(THROTTLE_ATTEMPTS):
            try:
                return str(self._client.send_email(**request)["MessageId"])
            except (EndpointConnectionError, ConnectTimeoutError) as exc:  # the request never reached SES
                raise MailUnavailable(type(exc).__name__) from exc
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in _THROTTLED and attempt + 1 < THROTTLE_ATTEMPTS:
                    self._sleep(random.uniform(0, 0.2 * 2**attempt))
                    continue
                if code in _UNAVAILABLE:
                    raise MailUnavailable(code) from exc
                raise MailRejected(code) from exc
        raise AssertionError("unreachable")  # pragma: no cover
