"""The local stack's mechanics, on a fixture template with toy handlers (tests/fixtures/local_stack/).

Each toy handler keeps what it received in a module-level ``CALLS`` list, read back through
``stack.handler_module``. The last tests start the real template.yaml.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any

import pytest
import yaml

from npsloop import clock as app_clock
from npsloop.clock import ManualClock
from npsloop_local.dispatcher import EnvironmentConflictError
from npsloop_local.functions import HandlerLoadError
from npsloop_local.schedules import CronExpression
from npsloop_local.stack import LocalStack
from npsloop_local.template import PhysicalResource, Resolver, Template, TemplateError, TemplateLoader

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "local_stack" / "template.yaml"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def stack(clock: ManualClock, tmp_path: Path) -> Iterator[LocalStack]:
    with LocalStack(FIXTURE, clock=clock, outbox_dir=tmp_path / "outbox") as running:
        yield running


def calls(stack: LocalStack, logical_id: str) -> list[Any]:
    return stack.handler_module(logical_id).CALLS


def http(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None
) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def order(total: int, **extra: Any) -> dict[str, Any]:
    return {"Source": "shop", "DetailType": "OrderCompleted", "Detail": json.dumps({"total": total, **extra})}


def put_items(stack: LocalStack, *items: dict[str, str]) -> None:
    ddb = stack.client("dynamodb")
    for item in items:
        ddb.put_item(TableName=stack.physical_id("Table"), Item={k: {"S": v} for k, v in item.items()})


def stream_keys(batch: list[dict[str, Any]]) -> list[str]:
    return [record["dynamodb"]["Keys"]["pk"]["S"] for record in batch]


# ---------------------------------------------------------------------------------------------
# Template
# ---------------------------------------------------------------------------------------------

INTRINSICS = """
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Names: {Type: CommaDelimitedList, Default: "a,b,c"}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
Resources:
  Queue: {Type: AWS::SQS::Queue}
Outputs:
  Sub: {Value: !Sub "arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:${Stage}/${Queue.Arn}/${Queue}"}
  SubList: {Value: !Sub ["${Greeting}, ${Stage}! ${!Literal}", {Greeting: !Join ["-", [hello, !Ref Stage]]}]}
  If: {Value: !If [IsProd, big, small]}
  Select: {Value: !Select [1, !Ref Names]}
  Split: {Value: !Select [2, !Split ["/", "x/y/z"]]}
  Drop: {Value: [one, !If [NotProd, !Ref AWS::NoValue, two]]}
"""


def resolved_outputs(tmp_path: Path, **parameters: str) -> dict[str, Any]:
    path = tmp_path / "intrinsics.yaml"
    path.write_text(INTRINSICS)
    template = Template.load(path)
    resolver = Resolver(template, template.parameter_values(parameters), "eu-west-1", "123456789012", "s")
    resolver.physical["Queue"] = PhysicalResource("Queue", "AWS::SQS::Queue", "https://q", {"Arn": "arn:q"})
    return {name: resolver.resolve(output["Value"]) for name, output in template.outputs.items()}


def test_intrinsic_functions_resolve_against_parameters_pseudo_parameters_and_resources(tmp_path):
    # GIVEN a template using the short intrinsic tags
    # WHEN its outputs are resolved with the defaults, then with Stage=prod
    default = resolved_outputs(tmp_path)
    prod = resolved_outputs(tmp_path, Stage="prod")

    # THEN each function gives what CloudFormation would
    assert default["Sub"] == "arn:aws:x:eu-west-1:123456789012:dev/arn:q/https://q"
    assert default["SubList"] == "hello-dev, dev! ${Literal}"
    assert (default["If"], prod["If"]) == ("small", "big")
    assert (default["Select"], default["Split"]) == ("b", "z")
    assert (default["Drop"], prod["Drop"]) == (["one"], ["one", "two"])


def test_a_parameter_outside_its_allowed_values_is_refused(tmp_path):
    # GIVEN a Stage parameter allowing dev and prod
    # WHEN it is given another value, THEN resolution refuses as CloudFormation would
    with pytest.raises(TemplateError, match="Stage"):
        resolved_outputs(tmp_path, Stage="qa")


def test_cron_schedules_follow_aws_cron_syntax():
    # GIVEN "09:00 UTC on weekdays"
    cron = CronExpression.parse("cron(0 9 ? * MON-FRI *)")

    # WHEN asked for the next run after Friday 10:00
    following = cron.next_after(datetime(2026, 3, 6, 10, 0, tzinfo=UTC))

    # THEN it is Monday 09:00
    assert following == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_cron_name_ranges_are_accepted_and_unsupported_marks_refused():
    # GIVEN day and month ranges whose names contain W and L (MON-WED, JUN-JUL)
    # WHEN they are parsed
    midweek = CronExpression.parse("cron(0 9 ? * MON-WED *)")
    summer = CronExpression.parse("cron(0 9 1 JUN-JUL ? *)")

    # THEN they are ranges like any other, while the L, W and # marks are refused
    assert (midweek.weekdays, summer.months) == (frozenset({2, 3, 4}), frozenset({6, 7}))
    for unsupported in ("cron(0 9 L * ? *)", "cron(0 9 15W * ? *)", "cron(0 9 ? * 3#2 *)"):
        with pytest.raises(ValueError, match="not supported locally"):
            CronExpression.parse(unsupported)


# ---------------------------------------------------------------------------------------------
# Provisioning
# ---------------------------------------------------------------------------------------------


def test_tables_are_created_from_the_templates_own_key_schema(stack):
    # GIVEN the table as the fixture template declares it
    declared = yaml.load(FIXTURE.read_text(), Loader=TemplateLoader)["Resources"]["Table"]["Properties"]

    # WHEN moto describes the table the stack created
    ddb = stack.client("dynamodb")
    table = ddb.describe_table(TableName="fixture-test")["Table"]
    ttl = ddb.describe_time_to_live(TableName="fixture-test")["TimeToLiveDescription"]

    # THEN keys, attributes, indexes, billing, stream and TTL are the template's
    assert table["KeySchema"] == declared["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(declared["AttributeDefinitions"], key=str)
    (index,) = table["GlobalSecondaryIndexes"]
    assert (index["IndexName"], index["KeySchema"]) == ("gsi1", declared["GlobalSecondaryIndexes"][0]["KeySchema"])
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


def test_provisioning_follows_names_conditions_and_generated_secrets(stack):
    # GIVEN a running stack of the fixture template (Stage=test)
    secret_id = stack.physical_id("Secret")

    # WHEN its resources are inspected
    secret = json.loads(stack.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
    queue_name = stack.attribute("StreamFailureQueue", "QueueName")

    # THEN the secret follows GenerateSecretString, unnamed resources get CloudFormation-style names,
    # the IsProd-only table does not exist, and skipped resources are listed
    assert secret["previous"] == ""
    assert len(secret["current"]) == 40
    assert secret["current"].isalnum()
    assert queue_name.startswith("npsloop-local-StreamFailureQueue-")
    assert "UnnamedTable" not in stack.client("dynamodb").list_tables()["TableNames"]
    assert "UnnamedTableName" not in stack.outputs
    assert stack.skipped == {"LogGroup": "AWS::Logs::LogGroup", "HttpApi": "AWS::Serverless::HttpApi"}
    assert stack.outputs["ApiUrl"] == f"https://{stack.physical_id('HttpApi')}.execute-api.eu-west-1.amazonaws.com"


def test_a_skipped_resource_named_after_a_later_resource_waits_for_it(clock, tmp_path):
    # GIVEN a log group declared before the function whose name its LogGroupName uses
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n"
        "  LogGroup:\n    Type: AWS::Logs::LogGroup\n"
        "    Properties:\n      LogGroupName: !Sub /aws/lambda/${Function}\n"
        "  Function:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: fn/\n      Handler: app.handler\n      Runtime: python3.11\n"
        "      FunctionName: named-fn\n"
    )

    # WHEN the stack starts
    with LocalStack(template, clock=clock, outbox_dir=tmp_path / "outbox") as stack:
        # THEN the log group's Ref is its resolved name, not its logical id
        assert stack.physical_id("LogGroup") == "/aws/lambda/named-fn"


def test_functions_see_the_resolved_environment_and_the_local_url(stack):
    # GIVEN the fixture's functions (PublicBaseUrl not given)
    # WHEN the process environment is read while the stack runs
    # THEN globals and per-function variables are resolved, and PUBLIC_BASE_URL is the local server
    assert os.environ["TABLE_NAME"] == "fixture-test"
    assert os.environ["PUBLIC_BASE_URL"] == stack.base_url
    assert os.environ["SECRET_ID"].startswith("arn:aws:secretsmanager:eu-west-1:")
    assert os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] == "disabled"


def test_the_environment_is_restored_when_the_stack_stops(clock, tmp_path):
    # GIVEN an environment without the stack's variables
    assert "TABLE_NAME" not in os.environ
    before = dict(os.environ)

    # WHEN a stack starts and stops
    with LocalStack(FIXTURE, clock=clock, outbox_dir=tmp_path):
        assert os.environ["TABLE_NAME"] == "fixture-test"

    # THEN the environment is exactly what it was
    assert dict(os.environ) == before


def test_a_second_stack_is_refused_without_disturbing_the_running_one(stack, clock, tmp_path):
    # GIVEN a running stack (the app reads its clock)
    # WHEN a second stack tries to start in the same process
    with pytest.raises(RuntimeError, match="another LocalStack"):
        LocalStack(FIXTURE, clock=ManualClock(START), outbox_dir=tmp_path / "second").start()

    # THEN the first keeps its clock, its environment and its resources
    assert app_clock.current() is clock
    assert os.environ["TABLE_NAME"] == "fixture-test"
    assert "fixture-test" in stack.client("dynamodb").list_tables()["TableNames"]


def test_two_functions_giving_one_variable_different_values_is_a_clear_error(clock, tmp_path):
    # GIVEN a template whose two functions disagree on LEVEL
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n"
        + "".join(
            f"  {name}:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: fn/\n"
            f"      Handler: app.handler\n      Runtime: python3.11\n"
            f"      Environment:\n        Variables:\n          LEVEL: {level}\n"
            for name, level in (("One", "INFO"), ("Two", "DEBUG"))
        )
    )

    # WHEN the stack starts, THEN it refuses, naming the variable
    with pytest.raises(EnvironmentConflictError, match="LEVEL"), LocalStack(template, clock=clock, outbox_dir=tmp_path):
        pass


# ---------------------------------------------------------------------------------------------
# EventBridge and asynchronous invocation
# ---------------------------------------------------------------------------------------------


def test_only_events_matching_a_rule_pattern_reach_its_function(stack):
    # GIVEN the recorder's rule: source shop, detail-type OrderCompleted, detail.total > 100
    bus = "fixture-test"

    # WHEN three events are put, one of which matches
    result = stack.put_events(
        [
            {**order(150, order_id="o-1"), "EventBusName": bus},
            {**order(50, order_id="o-2"), "EventBusName": bus},
            {**order(150, order_id="o-3"), "EventBusName": "default"},
        ]
    )
    stack.drain()

    # THEN only the matching event on the rule's bus is delivered, in EventBridge's envelope
    assert result["FailedEntryCount"] == 0
    assert len(result["Entries"]) == 3
    (call,) = calls(stack, "RecorderFunction")
    assert call["event"] == {
        "version": "0",
        "id": result["Entries"][0]["EventId"],
        "detail-type": "OrderCompleted",
        "source": "shop",
        "account": "123456789012",
        "time": "2026-03-02T09:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {"total": 150, "order_id": "o-1"},
    }
    assert call["function_name"] == "fixture-test-recorder"


def test_put_events_validates_entries_as_eventbridge_does(stack):
    # GIVEN entries without a source, with a non-object detail and with malformed JSON
    entries = [
        {"DetailType": "OrderCompleted", "Detail": "{}", "EventBusName": "fixture-test"},
        {**order(150), "Detail": "[1, 2]", "EventBusName": "fixture-test"},
        {**order(150), "Detail": "{not json", "EventBusName": "fixture-test"},
    ]

    # WHEN they are put
    result = stack.put_events(entries)
    stack.drain()

    # THEN each fails with EventBridge's error and nothing is delivered
    assert result["FailedEntryCount"] == 3
    assert [entry["ErrorCode"] for entry in result["Entries"]] == [
        "InvalidArgument",
        "MalformedDetail",
        "MalformedDetail",
    ]
    assert calls(stack, "RecorderFunction") == []


def test_an_explicit_event_time_is_kept_in_the_envelope(stack):
    # GIVEN an entry with its own Time
    when = datetime(2026, 1, 15, 8, 30, 5, tzinfo=UTC)

    # WHEN it is put and delivered
    stack.put_events([{**order(999), "EventBusName": "fixture-test", "Time": when}])
    stack.drain()

    # THEN the envelope's time is that instant, not the clock's
    (call,) = calls(stack, "RecorderFunction")
    assert call["event"]["time"] == "2026-01-15T08:30:05Z"


def test_events_put_by_application_code_through_boto3_are_routed_too(stack):
    # GIVEN code that talks to EventBridge directly, not through the stack
    events = stack.client("events")

    # WHEN it puts a matching event
    events.put_events(Entries=[{**order(500), "EventBusName": "fixture-test"}])
    stack.drain()

    # THEN the rule's function receives it
    assert [c["event"]["detail"]["total"] for c in calls(stack, "RecorderFunction")] == [500]


def test_a_failing_async_invocation_is_retried_twice_then_lands_in_the_on_failure_queue(stack, clock):
    # GIVEN a function that always fails, with MaximumRetryAttempts 2 and an SQS OnFailure destination
    result = stack.put_events(
        [{"Source": "test", "DetailType": "Flaky", "Detail": '{"n": 1}', "EventBusName": "fixture-test"}]
    )

    # WHEN the stack drains (advancing the manual clock through Lambda's retry delays)
    stack.drain()

    # THEN it ran three times, a minute then two minutes apart, and the failure record was sent
    attempts = calls(stack, "FlakyFunction")
    assert len(attempts) == 3
    assert clock.now() == START + timedelta(minutes=3)
    (record,) = stack.dead_letters("FailureQueue")
    assert set(record) == {
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    }
    assert record["version"] == "1.0"
    assert record["timestamp"] == "2026-03-02T09:03:00.000Z"
    assert record["requestContext"] == {
        "requestId": attempts[-1]["request_id"],
        "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:fixture-test-flaky:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"]["id"] == result["Entries"][0]["EventId"]
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "flaky on purpose"


def test_events_put_concurrently_from_many_threads_are_all_delivered(stack):
    # GIVEN five threads putting the same kind of event at once
    barrier = threading.Barrier(5)

    def put(n: int) -> None:
        barrier.wait()
        stack.put_events([{**order(200, n=n), "EventBusName": "fixture-test"}])

    threads = [threading.Thread(target=put, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # WHEN the stack drains
    stack.drain()

    # THEN every event reached the function exactly once
    assert sorted(c["event"]["detail"]["n"] for c in calls(stack, "RecorderFunction")) == [0, 1, 2, 3, 4]


def test_concurrent_conditional_writes_let_exactly_one_writer_win(stack):
    # GIVEN ten threads that each try to create the same item only if it does not exist
    ddb = stack.client("dynamodb")
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def claim(n: int) -> None:
        barrier.wait()
        try:
            ddb.put_item(
                TableName="fixture-test",
                Item={"pk": {"S": "CLAIM"}, "sk": {"S": "1"}, "owner": {"S": str(n)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
            outcomes.append("won")
        except ddb.exceptions.ConditionalCheckFailedException:
            outcomes.append("lost")

    # WHEN they run concurrently
    threads = [threading.Thread(target=claim, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # THEN exactly one condition passed, as DynamoDB guarantees
    assert sorted(outcomes) == ["lost"] * 9 + ["won"]


# ---------------------------------------------------------------------------------------------
# DynamoDB streams
# ---------------------------------------------------------------------------------------------


def test_stream_batches_hold_at_most_batch_size_records_and_only_filter_matching_ones(stack):
    # GIVEN seven ORDER# inserts mixed with USER# inserts and an update (the filter wants ORDER# INSERTs)
    for n in range(7):
        put_items(stack, {"pk": f"ORDER#{n}", "sk": "A"}, {"pk": f"USER#{n}", "sk": "A"})
    put_items(stack, {"pk": "ORDER#0", "sk": "A", "note": "modified"})

    # WHEN the stack drains
    stack.drain()

    # THEN the function saw every ORDER# insert once, in order, in batches of at most 3
    batches = calls(stack, "StreamFunction")
    assert [len(batch) for batch in batches] == [3, 3, 1]
    assert [key for batch in batches for key in stream_keys(batch)] == [f"ORDER#{n}" for n in range(7)]
    assert {record["eventName"] for batch in batches for record in batch} == {"INSERT"}


def test_stream_records_have_the_shape_lambda_delivers(stack, clock):
    # GIVEN an insert made at the clock's current time
    clock.advance(timedelta(seconds=30))
    put_items(stack, {"pk": "ORDER#1", "sk": "A", "mode": "ok"})

    # WHEN the stack drains
    stack.drain()

    # THEN the record is Lambda's DynamoDB record, with our region, the stream ARN and the clock's time
    ((record,),) = calls(stack, "StreamFunction")
    assert record["eventVersion"] == "1.1"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == "eu-west-1"
    assert record["eventSourceARN"] == stack.attribute("Table", "StreamArn")
    dynamodb = record["dynamodb"]
    assert dynamodb["ApproximateCreationDateTime"] == (START + timedelta(seconds=30)).timestamp()
    assert dynamodb["Keys"] == {"pk": {"S": "ORDER#1"}, "sk": {"S": "A"}}
    assert dynamodb["NewImage"]["mode"] == {"S": "ok"}
    assert dynamodb["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert set(dynamodb) == {
        "ApproximateCreationDateTime",
        "Keys",
        "NewImage",
        "SequenceNumber",
        "SizeBytes",
        "StreamViewType",
    }


def test_a_partial_batch_failure_is_retried_from_the_failed_record_only(stack):
    # GIVEN a batch whose middle record the function reports failed the first time
    put_items(
        stack,
        {"pk": "ORDER#1", "sk": "A"},
        {"pk": "ORDER#2", "sk": "A", "mode": "fail-once"},
        {"pk": "ORDER#3", "sk": "A"},
    )

    # WHEN the stack drains
    stack.drain()

    # THEN the retry starts at the failed record; nothing is discarded
    assert [stream_keys(batch) for batch in calls(stack, "StreamFunction")] == [
        ["ORDER#1", "ORDER#2", "ORDER#3"],
        ["ORDER#2", "ORDER#3"],
    ]
    assert stack.dead_letters("StreamFailureQueue") == []


def test_a_poison_record_lands_in_the_on_failure_queue_after_finite_retries_while_the_others_pass(stack):
    # GIVEN a batch with a record that always makes the function raise (bisect on, 2 retries)
    put_items(
        stack,
        {"pk": "ORDER#1", "sk": "A"},
        {"pk": "ORDER#2", "sk": "A", "mode": "poison"},
        {"pk": "ORDER#3", "sk": "A"},
    )

    # WHEN the stack drains
    stack.drain()

    # THEN bisection isolates the poison record, tried 3 times before the shard moves on; the others succeed
    batches = [stream_keys(batch) for batch in calls(stack, "StreamFunction")]
    assert batches == [
        ["ORDER#1", "ORDER#2", "ORDER#3"],
        ["ORDER#1"],
        ["ORDER#2", "ORDER#3"],
        ["ORDER#2"],
        ["ORDER#2"],
        ["ORDER#2"],
        ["ORDER#3"],
    ]
    (record,) = stack.dead_letters("StreamFailureQueue")
    poison_sequence = calls(stack, "StreamFunction")[3][0]["dynamodb"]["SequenceNumber"]
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert (
        record["requestContext"]["functionArn"] == "arn:aws:lambda:eu-west-1:123456789012:function:fixture-test-stream"
    )
    assert record["responseContext"]["functionError"] == "Unhandled"
    info = record["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison_sequence
    assert info["batchSize"] == 1
    assert info["streamArn"] == stack.attribute("Table", "StreamArn")
    assert info["approximateArrivalOfFirstRecord"] == "2026-03-02T09:00:00Z"
    assert set(info) == {
        "shardId",
        "startSequenceNumber",
        "endSequenceNumber",
        "approximateArrivalOfFirstRecord",
        "approximateArrivalOfLastRecord",
        "batchSize",
        "streamArn",
    }


# ---------------------------------------------------------------------------------------------
# SNS and schedules
# ---------------------------------------------------------------------------------------------


def test_sns_messages_reach_the_function_only_when_they_match_the_filter_policy(stack):
    # GIVEN the SNS function subscribed with FilterPolicy kind=[survey]
    sns = stack.client("sns")
    topic = stack.physical_id("Topic")

    # WHEN one matching and one other message are published
    published = sns.publish(
        TopicArn=topic,
        Message="hello",
        Subject="greeting",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "survey"}},
    )
    sns.publish(
        TopicArn=topic, Message="ignored", MessageAttributes={"kind": {"DataType": "String", "StringValue": "other"}}
    )
    sqs_requests: list[Any] = []
    stack.client("sqs").meta.events.register("before-call", lambda **kw: sqs_requests.append(kw))
    stack.drain()
    stack.drain()

    # THEN only the matching one arrives, as Lambda's SNS event
    ((record,),) = [event["Records"] for event in calls(stack, "SnsFunction")]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"].startswith(topic + ":")
    message = record["Sns"]
    assert (message["Type"], message["MessageId"], message["TopicArn"]) == (
        "Notification",
        published["MessageId"],
        topic,
    )
    assert (message["Subject"], message["Message"]) == ("greeting", "hello")
    assert message["MessageAttributes"] == {"kind": {"Type": "String", "Value": "survey"}}
    assert {"Timestamp", "SignatureVersion", "Signature", "SigningCertUrl", "UnsubscribeUrl"} <= set(message)
    # the subscription (SNS's side, not the app's) took it from its queue without SQS requests, once
    assert sqs_requests == []


def test_a_schedule_fires_when_the_clock_reaches_it(stack, clock):
    # GIVEN a rate(1 hour) schedule and a stack that just started
    stack.drain()
    assert calls(stack, "ScheduledFunction") == []

    # WHEN an hour passes
    clock.advance(timedelta(hours=1))
    stack.drain()

    # THEN the function got one EventBridge scheduled event
    (event,) = calls(stack, "ScheduledFunction")
    assert (event["detail-type"], event["source"], event["detail"]) == ("Scheduled Event", "aws.events", {})
    assert event["time"] == "2026-03-02T10:00:00Z"


# ---------------------------------------------------------------------------------------------
# HTTP API
# ---------------------------------------------------------------------------------------------


def test_an_http_get_becomes_a_payload_format_2_event(stack, clock):
    # GIVEN the route GET /r/{token}
    url = f"{stack.base_url}/r/tok%20en?score=9&tag=a&tag=b&empty="

    # WHEN a browser-like request arrives
    status, headers, body = http(url, headers={"Cookie": "a=1; b=2", "X-Thing": "x", "User-Agent": "tests"})

    # THEN the handler got the v2 event, and its response came back as API Gateway sends it
    assert status == 201
    event = json.loads(body)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /r/{token}"
    assert event["rawPath"] == "/r/tok%20en"
    assert event["rawQueryString"] == "score=9&tag=a&tag=b&empty="
    assert event["queryStringParameters"] == {"score": "9", "tag": "a,b", "empty": ""}
    assert event["pathParameters"] == {"token": "tok en"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["x-thing"] == "x"
    assert "cookie" not in event["headers"]
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    context = event["requestContext"]
    assert context["http"] == {
        "method": "GET",
        "path": "/r/tok%20en",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "tests",
    }
    assert (context["routeKey"], context["stage"], context["apiId"]) == (
        "GET /r/{token}",
        "$default",
        stack.physical_id("HttpApi"),
    )
    assert context["timeEpoch"] == int(clock.now().timestamp() * 1000)
    assert context["time"] == "02/Mar/2026:09:00:00 +0000"
    assert headers.get_all("Set-Cookie") == ["seen=1; Path=/", "theme=dark"]
    assert headers.get_all("x-multi") == ["a", "b"]
    assert headers["x-handler"] == "recorder"


def test_a_form_post_arrives_base64_encoded_as_api_gateway_sends_it(stack):
    # GIVEN an HTML form post to POST /r/{token}
    form = "score=10&comment=%C5%9Awietnie"

    # WHEN it is sent
    status, _, body = http(
        f"{stack.base_url}/r/abc", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )

    # THEN the body is base64-encoded (HTTP APIs only pass text/*, json, xml and javascript as text)
    event = json.loads(body)
    assert status == 201
    assert (event["routeKey"], event["requestContext"]["http"]["method"]) == ("POST /r/{token}", "POST")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]).decode() == form


def test_a_json_post_arrives_as_plain_text(stack):
    # GIVEN a JSON body
    # WHEN it is posted
    _, _, body = http(f"{stack.base_url}/r/abc", b'{"a": 1}', {"Content-Type": "application/json"})

    # THEN the handler gets it as text
    event = json.loads(body)
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": 1}', False)


def test_a_greedy_any_route_matches_every_method_and_nested_path(stack):
    # GIVEN ANY /files/{proxy+}
    # WHEN a DELETE to a nested path arrives
    status, _, body = http(f"{stack.base_url}/files/a/b/c.txt", method="DELETE")

    # THEN the greedy parameter holds the rest of the path
    event = json.loads(body)
    assert status == 201
    assert event["routeKey"] == "ANY /files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}


def test_http_errors_and_bare_results_are_translated_like_api_gateway(stack):
    # GIVEN routes that return a bare dict, raise, or do not exist
    # WHEN they are requested
    bare = http(f"{stack.base_url}/bare")
    boom = http(f"{stack.base_url}/boom")
    missing = http(f"{stack.base_url}/nothing/here")
    wrong_method = http(f"{stack.base_url}/bare", b"x=1")
    head = http(f"{stack.base_url}/bare", method="HEAD")

    # THEN API Gateway's answers come back
    assert (bare[0], bare[1]["Content-Type"], json.loads(bare[2])) == (200, "application/json", {"hello": "world"})
    assert (boom[0], json.loads(boom[2])) == (500, {"message": "Internal Server Error"})
    assert (missing[0], json.loads(missing[2])) == (404, {"message": "Not Found"})
    assert wrong_method[0] == 404
    assert head[0] == 404


def test_a_kept_alive_connection_is_closed_when_the_stack_stops(clock, tmp_path):
    # GIVEN a client holding a keep-alive connection to the HTTP API, as browsers do
    with LocalStack(FIXTURE, clock=clock, outbox_dir=tmp_path) as stack:
        connection = HTTPConnection("127.0.0.1", int(stack.base_url.rsplit(":", 1)[1]), timeout=5)
        connection.request("GET", "/bare")
        assert connection.getresponse().read() == b'{"hello": "world"}'

    def ask_again() -> None:
        connection.request("GET", "/bare")
        connection.getresponse()

    # WHEN the stack has stopped, THEN that connection no longer reaches a handler
    with pytest.raises((HTTPException, OSError)):
        ask_again()
    connection.close()


def test_invoke_calls_a_handler_synchronously_with_a_lambda_context(stack):
    # GIVEN the recorder function
    # WHEN it is invoked directly
    result = stack.invoke("RecorderFunction", {"hello": 1})

    # THEN the return value comes back and the context looks like Lambda's
    assert result == {"ok": True}
    (call,) = calls(stack, "RecorderFunction")
    assert call["function_name"] == "fixture-test-recorder"
    assert len(call["request_id"]) == 36


def test_each_functions_app_py_is_its_own_module(stack):
    # GIVEN two functions whose handler files are both app.py
    # WHEN both are loaded
    recorder = stack.handler_module("RecorderFunction")
    flaky = stack.handler_module("FlakyFunction")

    # THEN they are distinct modules with their own state
    assert recorder is not flaky
    assert recorder.__name__ != flaky.__name__
    assert recorder.CALLS is not flaky.CALLS


def test_a_missing_handler_fails_only_when_invoked(stack):
    # GIVEN a function whose code is not written yet (the stack started anyway)
    # WHEN it is invoked directly and over HTTP
    with pytest.raises(HandlerLoadError, match="does not exist") as error:
        stack.invoke("MissingFunction", {})
    status, _, _ = http(f"{stack.base_url}/missing")

    # THEN only those invocations fail, as Runtime.ImportModuleError does in Lambda
    assert error.value.error_type == "Runtime.ImportModuleError"
    assert status == 500


# ---------------------------------------------------------------------------------------------
# Outbox
# ---------------------------------------------------------------------------------------------


def test_sent_email_is_written_to_the_outbox_as_eml(stack, tmp_path):
    # GIVEN the verified SenderIdentity example.org
    ses = stack.client("sesv2")

    # WHEN an email is sent through SES
    sent = ses.send_email(
        FromEmailAddress="surveys@example.org",
        Destination={"ToAddresses": ["ada@example.com"]},
        Content={"Simple": {"Subject": {"Data": "How did we do?"}, "Body": {"Html": {"Data": "<p>Rate us</p>"}}}},
    )

    # THEN it is in the outbox as a message a mail client can open
    (path,) = stack.outbox
    assert path.parent == tmp_path / "outbox"
    assert path.name == f"00001-{sent['MessageId']}.eml"
    (message,) = stack.outbox_messages()
    assert (message["From"], message["To"], message["Subject"]) == (
        "surveys@example.org",
        "ada@example.com",
        "How did we do?",
    )
    assert message.get_content_type() == "text/html"
    assert "Rate us" in message.get_content()


# ---------------------------------------------------------------------------------------------
# The real template
# ---------------------------------------------------------------------------------------------


def test_the_real_template_starts_and_lists_its_routes_and_rules(clock, tmp_path):
    # GIVEN the project's template.yaml
    # WHEN the local stack starts it
    with LocalStack(ROOT / "template.yaml", clock=clock, outbox_dir=tmp_path) as stack:
        # THEN its HTTP routes and bus rule are wired, and its resources exist in moto
        assert {"GET /r/{token}", "POST /r/{token}", "GET /u/{token}", "POST /u/{token}"} <= set(stack.routes)
        (invite_rule,) = [rule for rule in stack.rules if rule.function.logical_id == "InviteFunction"]
        assert invite_rule.bus_name == stack.outputs["EventBusName"]
        moto_rules = stack.client("events").list_rules(EventBusName=invite_rule.bus_name)["Rules"]
        assert invite_rule.name in [rule["Name"] for rule in moto_rules]
        assert stack.outputs["TableName"] in stack.client("dynamodb").list_tables()["TableNames"]
        assert stack.outputs["TableStreamArn"] == stack.attribute("Table", "StreamArn")
        assert os.environ["PUBLIC_BASE_URL"] == stack.base_url


def test_concurrent_invocations_of_one_function_take_turns(stack, monkeypatch):
    # GIVEN a handler that holds its first invocation until told to finish
    module = stack.handler_module("RecorderFunction")
    inside, release = threading.Event(), threading.Event()
    active: list[int] = []
    most = [0]

    def holding(event, context):
        active.append(1)
        most[0] = max(most[0], len(active))
        inside.set()
        release.wait(timeout=5)
        active.pop()
        return {"n": event["n"]}

    monkeypatch.setattr(module, "lambda_handler", holding)
    first = threading.Thread(target=stack.invoke, args=("RecorderFunction", {"n": 1}))
    second = threading.Thread(target=stack.invoke, args=("RecorderFunction", {"n": 2}))

    # WHEN a second invocation arrives while the first one runs
    first.start()
    assert inside.wait(timeout=5)
    second.start()
    second.join(timeout=0.2)  # a probe: without turns it would be inside the handler by now
    waiting = second.is_alive()
    release.set()
    first.join()
    second.join()

    # THEN it waited for the first to finish, as one execution environment takes one event at a time
    assert waiting
    assert most[0] == 1
