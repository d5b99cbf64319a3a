"""A reputation alarm pauses email sending, through the local stack built from template.yaml.

CloudWatch does not run locally, so the test publishes the notification an alarm's SNS action
publishes (events/sns-cloudwatch-alarm-ses-bounce-rate.json, with this stack's alarm name and topic) to
the alarm topic; the template's SNS subscription carries it to GuardFunction, which pauses the
configuration set, and SES (emulated: npsloop_local.ses_sending) then refuses sends through it.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import load_event

RAW = b"From: surveys@example.com\r\nTo: jane.doe@example.org\r\nSubject: How did we do?\r\n\r\nTell us."


def alarm_message(stack, alarm_logical_id: str, state: str) -> str:
    record = load_event("sns-cloudwatch-alarm-ses-bounce-rate.json")["Records"][0]["Sns"]
    alarm = json.loads(record["Message"])
    alarm.update(AlarmName=stack.physical_id(alarm_logical_id), NewStateValue=state, AWSAccountId="123456789012")
    return json.dumps(alarm)


def publish_alarm(stack, alarm_logical_id: str, state: str = "ALARM") -> None:
    stack.client("sns").publish(
        TopicArn=stack.outputs["AlarmTopicArn"],
        Subject=f'{state}: "{stack.physical_id(alarm_logical_id)}" in EU (Ireland)',
        Message=alarm_message(stack, alarm_logical_id, state),
    )
    stack.drain()


def sending_enabled(stack) -> bool:
    described = stack.client("sesv2").get_configuration_set(ConfigurationSetName=stack.outputs["ConfigurationSetName"])
    return described["SendingOptions"]["SendingEnabled"]


def send(stack) -> str:
    return stack.client("sesv2").send_email(
        FromEmailAddress="surveys@example.com",
        Destination={"ToAddresses": ["jane.doe@example.org"]},
        Content={"Raw": {"Data": RAW}},
        ConfigurationSetName=stack.outputs["ConfigurationSetName"],
    )["MessageId"]


@pytest.mark.parametrize("alarm", ["SesBounceRateAlarm", "SesComplaintRateAlarm"])
def test_a_reputation_alarm_pauses_sending_and_sends_through_the_set_fail(stack, alarm):
    assert sending_enabled(stack)
    send(stack)  # sending works before the alarm
    sent_before = len(stack.outbox)

    publish_alarm(stack, alarm)

    assert not sending_enabled(stack)
    with pytest.raises(ClientError) as refused:
        send(stack)
    assert refused.value.response["Error"]["Code"] == "SendingPausedException"
    with pytest.raises(ClientError) as refused_v1:
        stack.client("ses").send_raw_email(
            RawMessage={"Data": RAW}, ConfigurationSetName=stack.outputs["ConfigurationSetName"]
        )
    assert refused_v1.value.response["Error"]["Code"] == "ConfigurationSetSendingPausedException"
    stack.drain()
    assert len(stack.outbox) == sent_before  # nothing refused was delivered


def test_the_alarm_delivered_twice_pauses_once_and_only_an_operator_resumes(stack):
    publish_alarm(stack, "SesBounceRateAlarm")
    publish_alarm(stack, "SesBounceRateAlarm")  # SNS delivers at least once
    assert not sending_enabled(stack)

    publish_alarm(stack, "SesBounceRateAlarm", state="OK")  # the rate recovering does not resume
    assert not sending_enabled(stack)

    # The operator's command (README, Operating): aws sesv2 put-configuration-set-sending-options
    #   --configuration-set-name npsloop-<stage> --sending-enabled
    stack.client("sesv2").put_configuration_set_sending_options(
        ConfigurationSetName=stack.outputs["ConfigurationSetName"], SendingEnabled=True
    )
    assert sending_enabled(stack)
    send(stack)


def test_other_alarms_on_the_topic_leave_sending_alone(stack):
    publish_alarm(stack, "InviteErrorsAlarm")
    publish_alarm(stack, "InviteDeadLetterAlarm")
    stack.client("sns").publish(TopicArn=stack.outputs["AlarmTopicArn"], Message="a test message from the console")
    stack.drain()

    assert sending_enabled(stack)
    send(stack)
