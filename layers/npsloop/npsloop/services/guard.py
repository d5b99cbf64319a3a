"""The sending guard: a reputation alarm going into ALARM pauses the stack's email sending.

The alarm topic carries every alarm of the stack, so the guard acts only on the notifications of
the alarms it is told to (``PAUSE_ON_ALARMS``: the SES bounce and complaint rate alarms) entering
the ALARM state; OK and INSUFFICIENT_DATA transitions, other alarms and anything unreadable are
ignored (a retry would read them no better). Pausing is idempotent, so a notification SNS delivers
twice pauses once in effect. Nothing here resumes sending: an operator does, once the cause is
understood (README, "Operating"). A failing pause raises, so Lambda retries it and the guard's own
Errors alarm fires.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from npsloop.domain.alarms import AlarmState, UnreadableAlarm, parse_alarm
from npsloop.observability import count, logger
from npsloop.ports.sending import SendingSwitch


@dataclass(frozen=True)
class GuardOutcome:
    result: Literal["paused", "ignored"]
    alarm: str | None = None
    reason: str | None = None


class SendingGuard:
    def __init__(self, *, switch: SendingSwitch, pause_on: Iterable[str]) -> None:
        self._switch = switch
        self._pause_on = frozenset(name for name in pause_on if name)

    def accept(self, raw_event: Any) -> list[GuardOutcome]:
        """Handle one Lambda SNS event: one outcome per record."""
        records = raw_event.get("Records") if isinstance(raw_event, dict) else None
        if not isinstance(records, list) or not records:
            return [self._ignore(None, "not an SNS event: no Records")]
        return [self._record(record) for record in records]

    def _record(self, record: Any) -> GuardOutcome:
        message = record.get("Sns", {}).get("Message") if isinstance(record, dict) else None
        if not isinstance(message, str):
            return self._ignore(None, "not an SNS record: no Sns.Message string")
        try:
            alarm = parse_alarm(message)
        except UnreadableAlarm as exc:
            return self._ignore(None, str(exc))
        if alarm.alarm_name not in self._pause_on:
            return GuardOutcome(result="ignored", alarm=alarm.alarm_name, reason="not a sending-pause alarm")
        if alarm.new_state is not AlarmState.ALARM:
            return GuardOutcome(result="ignored", alarm=alarm.alarm_name, reason=f"state {alarm.new_state.value}")
        self._switch.pause()
        logger.warning("email sending paused by alarm", alarm=alarm.alarm_name)
        count("SendingPaused")
        return GuardOutcome(result="paused", alarm=alarm.alarm_name)

    @staticmethod
    def _ignore(alarm: str | None, reason: str) -> GuardOutcome:
        logger.warning("alarm topic message ignored", reason=reason)
        return GuardOutcome(result="ignored", alarm=alarm, reason=reason)
