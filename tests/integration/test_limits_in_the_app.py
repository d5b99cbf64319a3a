"""The app within AWS's limits, against the local stack (which refuses what AWS refuses):
alerts with a huge comment, bus events over 256 KB together, UpdateItem's UPDATED_NEW read either
way, and the score function's transactions at their 100-item limit."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from npsloop.adapters.dynamodb_aggregates import DynamoAggregates, mark_of
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
from npsloop_local.metering import item_size

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


# ----- DynamoDB: the score function's marked writes -----------------------------------------------


def test_an_aggregate_keeps_a_few_marks_however_many_chunks_wrote_it(stack):
    # GIVEN one container writing the same overall aggregate in 300 chunks over a day, each closed
    aggregates = DynamoAggregates(stack.outputs["TableName"])
    key = AggregateKey("nps-shop", "all", "all", NOW.date())
    client = stack.client("dynamodb")
    sizes = []
    for n in range(300):
        at = NOW + timedelta(minutes=5 * n)
        journal_id = hashlib.sha256(str(n).encode()).hexdigest()
        assert aggregates.open_chunk(journal_id, 1, f"e{n}", at + timedelta(days=2)).created
        assert aggregates.add(journal_id, key, Delta(SurveyType.NPS, n=1, counts={10: 1}), at + timedelta(hours=7), at)
        aggregates.close_chunk(journal_id)
        item = client.get_item(TableName=stack.outputs["TableName"], Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}})
        sizes.append(item_size(item["Item"]))

    # THEN it holds the last chunk's mark only, stays within one write unit, and counts every chunk
    marks = [name for name in item["Item"] if name.startswith("j")]
    assert marks == [mark_of(journal_id)]
    assert max(sizes) < 1024
    assert item["Item"]["n"] == {"N": "300"}
    # AND a second write of a chunk's delta is refused by its mark, even when its reply was lost
    assert not aggregates.add(journal_id, key, Delta(SurveyType.NPS, n=1, counts={10: 1}), NOW, NOW)


def test_marks_of_a_container_that_died_go_once_they_expire(stack):
    # GIVEN a mark left by a chunk whose container died before closing it
    name = stack.outputs["TableName"]
    key = AggregateKey("nps-shop", "all", "all", NOW.date())
    dead = DynamoAggregates(name)
    dead.open_chunk("a" * 64, 1, "e", NOW + timedelta(days=2))
    dead.add("a" * 64, key, Delta(SurveyType.NPS, n=1, counts={9: 1}), NOW + timedelta(hours=7), NOW)

    # WHEN another container writes the item before and after the mark's time
    other = DynamoAggregates(name)
    for n, at in enumerate([NOW + timedelta(hours=1), NOW + timedelta(hours=8), NOW + timedelta(hours=9)]):
        other.add(
            hashlib.sha256(str(n).encode()).hexdigest(),
            key,
            Delta(SurveyType.NPS, n=1, counts={9: 1}),
            at + timedelta(hours=7),
            at,
        )

    # THEN the dead chunk's mark stays while it could come back, and goes at the next write after
    item = stack.client("dynamodb").get_item(TableName=name, Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}})["Item"]
    assert mark_of("a" * 64) not in item
    assert item["n"] == {"N": "4"}
