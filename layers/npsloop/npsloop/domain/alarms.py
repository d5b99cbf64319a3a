"""CloudWatch alarm notifications, as an alarm's SNS action publishes them.

The SNS message is a JSON object (Amazon CloudWatch user guide, "Using Amazon CloudWatch alarms"
with Amazon SNS): ``AlarmName``, ``AlarmDescription``, ``AWSAccountId``, ``NewStateValue``
(``ALARM`` / ``OK`` / ``INSUFFICIENT_DATA``), ``OldStateValue``, ``NewStateReason``,
``StateChangeTime``, ``Region`` (a display name such as "EU (Ireland)"), ``AlarmArn`` and
``Trigger``. CloudWatch may add fields, so unknown ones are ignored.
"""

from __future__ import annotations

import json
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class UnreadableAlarm(ValueError):
    """Not a CloudWatch alarm notification; the reason names fields, never their values."""


class AlarmState(StrEnum):
    ALARM = "ALARM"
    OK = "OK"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class AlarmNotification(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    alarm_name: str = Field(alias="AlarmName", min_length=1)
    new_state: AlarmState = Field(alias="NewStateValue")
    old_state: AlarmState | None = Field(default=None, alias="OldStateValue")
    state_change_time: str | None = Field(default=None, alias="StateChangeTime")
    account_id: str | None = Field(default=None, alias="AWSAccountId")


def parse_alarm(message: str) -> AlarmNotification:
    """The alarm notification in an SNS message; raises UnreadableAlarm for anything else."""
    try:
        document = json.loads(message)
    except ValueError as exc:
        raise UnreadableAlarm("the message is not JSON") from exc
    if not isinstance(document, dict):
        raise UnreadableAlarm("the message is not a JSON object")
    try:
        return AlarmNotification.model_validate(document)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in error["loc"]) for error in exc.errors()})
        raise UnreadableAlarm(f"not a CloudWatch alarm notification: {', '.join(fields)}") from exc
