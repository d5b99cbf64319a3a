"""Amazon SES (v2 API): raw MIME messages, sent through the stack's configuration set."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from npsloop.ports import Mailer, MailRejected, OutgoingEmail

# Failures worth retrying: the rest mean the message will never go (bad address, unverified sender).
_TRANSIENT = {
    "TooManyRequestsException",
    "LimitExceededException",
    "Throttling",
    "ServiceUnavailable",
    "InternalFailure",
}


class MailTemporarilyUnavailable(Exception):
    """SES could not take the message now; a retry may succeed."""


class SesMailer(Mailer):
    def __init__(self, configuration_set: str | None, client: Any | None = None) -> None:
        self._configuration_set = configuration_set
        self._client = client or boto3.client("sesv2")

    def send(self, email: OutgoingEmail) -> str:
        request: dict[str, Any] = {
            "FromEmailAddress": email.sender,
            "Destination": {"ToAddresses": [email.recipient]},
            "Content": {"Raw": {"Data": email.raw}},
            "EmailTags": [{"Name": name, "Value": value} for name, value in email.tags.items()],
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            return str(self._client.send_email(**request)["MessageId"])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _TRANSIENT:
                raise MailTemporarilyUnavailable(code) from exc
            raise MailRejected(code) from exc
