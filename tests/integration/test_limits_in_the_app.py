"""The app within AWS's limits, against the local stack (which refuses what AWS refuses):
alerts with a huge comment, bus events over 256 KB together, UpdateItem's UPDATED_NEW read either
way, and the score function's transactions at their 100-item limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
from npsloop.adapters.dynamodb_delivery import DynamoDeliveryStore
from npsloop.adapters.dynamodb_table import DynamoTable
from npsloop.adapters.event_bus import EventBridgeBus, EventTooLarge
from npsloop.adapters.sns_topic import SnsTopic
from npsloop.domain.aggregates import AggregateKey, Delta
from npsloop.domain.alerts import Channel, Person
from npsloop.domain.brand import load_brand
from npsloop.domain.responses import MAX_COMMENT_LENGTH
from npsloop.domain.surveys import SurveyType
from npsloop.notices import Notice, Notifier
from npsloop.ports.cases import BusEvent
from npsloop.ports.scoring import MAX_UPDATES_PER_CHUNK, ChunkOutcome

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


# ----- SNS: an alert with a comment longer than SNS takes ---------------------------------------


def test_an_alert_with_a_300_kb_comment_is_published_with_the_comment_truncated_and_flagged(stack):
    # GIVEN an alerts topic with a queue subscribed, and a notice whose comment is 300,000 characters
    sns, sqs = stack.client("sns"), stack.client("sqs")
    topic = stack.outputs["AlertsTopicArn"]
    queue = sqs.create_queue(QueueName="alerts-reader")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    notice = Notice(
        kind="alert",
        recipient=Person(id="owner-1", email="owner@example.com"),
        severity="high",
        invitation_id="inv-1",
        program_id="nps-shop",
        survey_type="nps",
        score=1,
        customer_id="C-1",
        context={"store": "S-001"},
        team="stores",
        rule="detractor",
        comment="ą" * 300_000,
    )

    # WHEN it is sent on the topic
    Notifier(topic=SnsTopic(topic), mailer=None, sender=None, brand=load_brand()).send(notice, Channel.SNS)

    # THEN the message went out, with the first 2,000 characters and a flag that says so
    (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    body = json.loads(message["Body"])
    assert body["comment"] == "ą" * MAX_COMMENT_LENGTH
    assert body["comment_truncated"] is True


# ----- EventBridge: bus events over 256 KB together ---------------------------------------------


def test_bus_events_over_256_kb_together_are_put_in_several_requests(stack):
    # GIVEN six events of 60 KB each (each fits; ten to a request would be 360 KB)
    bus = EventBridgeBus(stack.outputs["EventBusName"])
    events = [BusEvent("CaseOpened", {"event_id": f"e{i}", "pad": "x" * 60_000}) for i in range(6)]
    requests: list[Any] = []
    bus._client.meta.events.register(
        "provide-client-params.events.PutEvents", lambda params, **_: requests.append(params)
    )

    # WHEN they are put
    bus.put(events)

    # THEN they went in requests under 256 KB, all of them, in order
    assert [len(r["Entries"]) for r in requests] == [4, 2]
    assert [json.loads(e["Detail"])["event_id"] for r in requests for e in r["Entries"]] == [f"e{i}" for i in range(6)]


def test_a_bus_event_over_256_kb_on_its_own_fails_without_a_request(stack):
    bus = EventBridgeBus(stack.outputs["EventBusName"])

    with pytest.raises(EventTooLarge, match="CaseOpened event of 2621"):
        bus.put([BusEvent("CaseOpened", {"event_id": "e", "pad": "x" * 262_100})])


# ----- DynamoDB: UPDATED_NEW read either way ----------------------------------------------------


def every_set_attribute(client: Any, table: str) -> None:
    """Make UpdateItem's UPDATED_NEW answer the other reading: every attribute the SET names,
    including one that ``if_not_exists`` kept (moto leaves that one out)."""
    reader = boto3.client("dynamodb")

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["update"] = dict(params)

    def widen(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        update = context.get("update") or {}
        if update.get("ReturnValues") != "UPDATED_NEW" or "Error" in parsed:
            return
        names = update.get("ExpressionAttributeNames", {})
        assigned = update["UpdateExpression"].split("SET", 1)[1]
        targets = [names.get(part.split("=")[0].strip(), part.split("=")[0].strip()) for part in _assignments(assigned)]
        item = reader.get_item(TableName=table, Key=update["Key"], ConsistentRead=True)["Item"]
        parsed["Attributes"] = {name: item[name] for name in targets if name in item}

    client.meta.events.register("provide-client-params.dynamodb.UpdateItem", remember)
    client.meta.events.register("after-call.dynamodb.UpdateItem", widen)


def _assignments(expression: str) -> list[str]:
    """``a = :x, b = if_not_exists(b, :y)`` split on its top-level commas."""
    parts, depth, current = [], 0, ""
    for char in expression:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


@pytest.mark.parametrize("reading", ["kept value left out (moto)", "every SET attribute returned"])
def test_stamping_a_profile_twice_keeps_the_first_time_under_either_reading_of_updated_new(stack, reading):
    # GIVEN the adapters on a client answering UPDATED_NEW one way or the other
    client = boto3.client("dynamodb")
    name = stack.outputs["TableName"]
    if reading == "every SET attribute returned":
        every_set_attribute(client, name)
    table, delivery = DynamoTable(name, client=client), DynamoDeliveryStore(name, client=client)

    # WHEN a customer unsubscribes twice and objects twice
    first = table.unsubscribe_email("C-1", NOW)
    second = table.unsubscribe_email("C-1", NOW + timedelta(hours=1))
    delivery.record_objection("C-1", NOW + timedelta(hours=2))
    delivery.record_objection("C-1", NOW + timedelta(hours=3))

    # THEN the first time stands, and the second call says so instead of failing
    assert first == second == NOW
    profile = client.get_item(TableName=name, Key={"pk": {"S": "CUST#C-1"}, "sk": {"S": "PROFILE"}})["Item"]
    assert profile["objected_at"]["S"].startswith("2026-11-20T12:30")


# ----- DynamoDB: the score function's transactions -----------------------------------------------


def test_a_score_chunk_of_the_most_updates_fits_one_transaction(stack):
    # GIVEN as many aggregate updates as a chunk may hold (plus its journal entry: 100 items)
    aggregates = DynamoAggregates(stack.outputs["TableName"])
    updates = {
        AggregateKey("nps-shop", "store", f"S-{i:03d}", NOW.date()): Delta(SurveyType.NPS, n=1, counts={10: 1})
        for i in range(MAX_UPDATES_PER_CHUNK)
    }

    # WHEN they are applied, and one more is tried
    outcome = aggregates.apply("journal-1", updates, NOW + timedelta(days=7))
    one_more = {**updates, AggregateKey("nps-shop", "store", "S-999", NOW.date()): Delta(SurveyType.NPS, n=1)}

    # THEN the transaction of 100 items committed, and 101 is refused before any request
    assert outcome is ChunkOutcome.APPLIED
    with pytest.raises(ValueError, match="do not fit one transaction"):
        aggregates.apply("journal-2", one_more, NOW + timedelta(days=7))
