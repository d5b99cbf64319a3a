"""The sending guard: which alarm notifications pause email sending, and that replays are harmless.

The notifications are the real shape (events/sns-cloudwatch-alarm-ses-bounce-rate.json: a Lambda SNS
event whose Message is the JSON a CloudWatch alarm's SNS action publishes).
"""

from __future__ import annotations

import copy
import json

import boto3
import pytest
from botocore.stub import Stubber

from npsloop.adapters.ses_sending import SesSendingSwitch
from npsloop.domain.alarms import UnreadableAlarm, parse_alarm
from npsloop.ports.sending import SendingSwitch
from npsloop.services.guard import SendingGuard
from tests.conftest import load_event

BOUNCE_ALARM = "npsloop-dev-ses-bounce-rate"
COMPLAINT_ALARM = "npsloop-dev-ses-complaint-rate"


class ConfigurationSet(SendingSwitch):
    """A configuration set's sending switch, as SES keeps it: on until paused."""

    def __init__(self) -> None:
        self.sending_enabled = True
        self.pause_requests = 0

    def pause(self) -> None:
        self.pause_requests += 1
        self.sending_enabled = False


def alarm_event(**changes: object) -> dict:
    event = copy.deepcopy(load_event("sns-cloudwatch-alarm-ses-bounce-rate.json"))
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message.update(changes)
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return event


@pytest.fixture
def config_set() -> ConfigurationSet:
    return ConfigurationSet()


@pytest.fixture
def guard(config_set) -> SendingGuard:
    return SendingGuard(switch=config_set, pause_on=[BOUNCE_ALARM, COMPLAINT_ALARM])


def test_the_sample_is_a_cloudwatch_alarm_notification():
    message = load_event("sns-cloudwatch-alarm-ses-bounce-rate.json")["Records"][0]["Sns"]["Message"]
    alarm = parse_alarm(message)
    assert (alarm.alarm_name, alarm.new_state.value, alarm.old_state.value) == (BOUNCE_ALARM, "ALARM", "OK")


@pytest.mark.parametrize("name", [BOUNCE_ALARM, COMPLAINT_ALARM])
def test_a_reputation_alarm_entering_alarm_pauses_sending(guard, config_set, name):
    (outcome,) = guard.accept(alarm_event(AlarmName=name))
    assert (outcome.result, outcome.alarm) == ("paused", name)
    assert config_set.sending_enabled is False


@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA"])
def test_other_states_of_a_reputation_alarm_leave_sending_alone(guard, config_set, state):
    (outcome,) = guard.accept(alarm_event(NewStateValue=state, OldStateValue="ALARM"))
    assert (outcome.result, outcome.reason) == ("ignored", f"state {state}")
    assert config_set.sending_enabled is True
    assert config_set.pause_requests == 0


def test_other_alarms_leave_sending_alone(guard, config_set):
    (outcome,) = guard.accept(alarm_event(AlarmName="npsloop-dev-invite-errors"))
    assert (outcome.result, outcome.reason) == ("ignored", "not a sending-pause alarm")
    # the same name in another stage is another alarm
    (other_stage,) = guard.accept(alarm_event(AlarmName="npsloop-prod-ses-bounce-rate"))
    assert other_stage.result == "ignored"
    assert config_set.sending_enabled is True


@pytest.mark.parametrize(
    "message",
    ["a test message from the console", "[1, 2]", json.dumps({"AlarmName": BOUNCE_ALARM, "NewStateValue": "RED"})],
)
def test_messages_that_are_not_alarm_notifications_are_ignored(guard, config_set, message):
    event = alarm_event()
    event["Records"][0]["Sns"]["Message"] = message
    (outcome,) = guard.accept(event)
    assert outcome.result == "ignored"
    assert config_set.sending_enabled is True


def test_not_an_sns_event_is_ignored(guard, config_set):
    assert [o.result for o in guard.accept({"detail": {}})] == ["ignored"]
    assert config_set.sending_enabled is True


def test_a_replayed_notification_leaves_sending_paused_without_error(guard, config_set):
    event = alarm_event()
    first = guard.accept(event)
    replay = guard.accept(copy.deepcopy(event))
    assert [o.result for o in first + replay] == ["paused", "paused"]
    assert config_set.sending_enabled is False


def test_unreadable_reasons_name_fields_not_values():
    with pytest.raises(UnreadableAlarm) as error:
        parse_alarm(json.dumps({"AlarmName": "x", "NewStateValue": "jane.doe@example.com"}))
    assert "NewStateValue" in str(error.value)
    assert "jane.doe" not in str(error.value)


def test_the_ses_switch_disables_sending_on_the_configuration_set():
    client = boto3.client("sesv2", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response(
            "put_configuration_set_sending_options",
            {},
            {"ConfigurationSetName": "npsloop-dev", "SendingEnabled": False},
        )
        SesSendingSwitch("npsloop-dev", client).pause()
        stub.assert_no_pending_responses()
