"""template.yaml: every function, stream consumer and dead-letter queue has an alarm that reaches someone.

Read from the template itself, so a function added without its alarms fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from npsloop_local.template import Template
from tests.conftest import ROOT

TEMPLATE = Template.load(ROOT / "template.yaml")
FUNCTIONS = TEMPLATE.resources_of_type("AWS::Serverless::Function")
ALARMS = TEMPLATE.resources_of_type("AWS::CloudWatch::Alarm")


def stream_consumers() -> list[str]:
    return sorted(
        logical_id
        for logical_id, function in FUNCTIONS.items()
        if any(e.get("Type") in {"DynamoDB", "Kinesis"} for e in function["Properties"].get("Events", {}).values())
    )


def dead_letter_queues() -> set[str]:
    """Queues a function, an event source mapping, a rule or a subscription sends its failures to."""
    queues: set[str] = set()

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            if key in {"DeadLetterConfig", "OnFailure", "RedrivePolicy"}:
                for arn_key in ("Arn", "Destination", "deadLetterTargetArn"):
                    target = node.get(arn_key)
                    if isinstance(target, dict) and "Fn::GetAtt" in target:
                        queues.add(_get_att_target(target["Fn::GetAtt"]))
            for child_key, child in node.items():
                walk(child, child_key)
        elif isinstance(node, list):
            for child in node:
                walk(child, key)

    walk(TEMPLATE.resources)
    return queues


def _get_att_target(arg: Any) -> str:
    return arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]


def alarms_on(namespace: str, metric: str, dimension: str, logical_id: str) -> list[str]:
    found = []
    for name, alarm in ALARMS.items():
        props = alarm["Properties"]
        if (props.get("Namespace"), props.get("MetricName")) != (namespace, metric):
            continue
        for dim in props.get("Dimensions", []):
            value = dim.get("Value")
            if dim.get("Name") != dimension or not isinstance(value, dict):
                continue
            ref = value.get("Ref") or _get_att_target(value.get("Fn::GetAtt", ""))
            if ref == logical_id:
                found.append(name)
    return found


def test_the_template_has_the_functions_the_checks_below_expect():
    assert {"InviteFunction", "GuardFunction"} <= set(FUNCTIONS)
    assert stream_consumers() == ["AlertFunction", "AnalyseFunction", "ExportFunction", "ScoreFunction"]
    assert dead_letter_queues() == {
        "InviteDeadLetterQueue",
        "DeliveryDeadLetterQueue",
        "ScoreDeadLetterQueue",
        "AnalyseDeadLetterQueue",
        "AlertDeadLetterQueue",
        "ExportDeadLetterQueue",
        "ReportJobsDeadLetterQueue",
    }


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_errors_and_a_throttles_alarm(function, metric):
    assert alarms_on("AWS/Lambda", metric, "FunctionName", function), f"{function} has no {metric} alarm"


@pytest.mark.parametrize("function", stream_consumers())
def test_every_stream_consumer_has_an_iterator_age_alarm(function):
    assert alarms_on("AWS/Lambda", "IteratorAge", "FunctionName", function)


@pytest.mark.parametrize("queue", sorted(dead_letter_queues()))
def test_every_dead_letter_queue_has_a_not_empty_alarm(queue):
    assert alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue)


def test_the_http_api_has_a_5xx_alarm():
    assert alarms_on("AWS/ApiGateway", "5xx", "ApiId", "HttpApi")


@pytest.mark.parametrize(
    ("metric", "threshold"), [("Reputation.BounceRate", 0.04), ("Reputation.ComplaintRate", 0.0008)]
)
def test_ses_reputation_alarms_fire_below_the_review_levels_and_feed_the_guard(metric, threshold):
    (name,) = [n for n, a in ALARMS.items() if a["Properties"].get("MetricName") == metric]
    props = ALARMS[name]["Properties"]
    assert (props["Namespace"], props["Threshold"], props["ComparisonOperator"]) == (
        "AWS/SES",
        threshold,
        "GreaterThanOrEqualToThreshold",
    )
    guard_alarms = FUNCTIONS["GuardFunction"]["Properties"]["Environment"]["Variables"]["PAUSE_ON_ALARMS"]
    assert {"Ref": name} in guard_alarms["Fn::Join"][1]


@pytest.mark.parametrize("name", sorted(ALARMS))
def test_every_alarm_notifies_the_alarm_topic_and_says_what_missing_data_means(name):
    props = ALARMS[name]["Properties"]
    assert {"Ref": "AlarmTopic"} in props["AlarmActions"]
    assert props.get("TreatMissingData") in {"notBreaching", "breaching", "ignore", "missing"}


def test_the_guard_may_only_pause_the_stacks_configuration_set():
    guard = FUNCTIONS["GuardFunction"]["Properties"]
    (statement,) = [s for policy in guard["Policies"] for s in policy["Statement"]]
    assert statement["Action"] == "ses:PutConfigurationSetSendingOptions"
    assert "configuration-set/${ConfigurationSet}" in statement["Resource"]["Fn::Sub"]
    assert guard["Events"]["Alarm"] == {"Type": "SNS", "Properties": {"Topic": {"Ref": "AlarmTopic"}}}
