"""The alert, sweep and case API functions with their real adapters under the local stack (moto).

A response item written to the table reaches AlertFunction through the stream at ``drain()``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from npsloop_local.metering import AwsMeter
from tests.fakes_cases import response_image, stream_record
from tests.stream_records import batch
from tests.unit.test_cursors import forged_cursors

_serializer = TypeSerializer()


class Capture:
    """An SQS queue subscribed to the alerts topic and targeted by a bus rule for source npsloop."""

    def __init__(self, stack) -> None:
        self.sqs = stack.client("sqs")
        self.alerts_url = self._queue("captured-alerts")
        stack.client("sns").subscribe(
            TopicArn=stack.physical_id("AlertsTopic"),
            Protocol="sqs",
            Endpoint=self._arn(self.alerts_url),
            Attributes={"RawMessageDelivery": "false"},
        )
        self.events_url = self._queue("captured-events")
        events = stack.client("events")
        bus = stack.physical_id("Bus")
        events.put_rule(Name="capture-npsloop", EventBusName=bus, EventPattern=json.dumps({"source": ["npsloop"]}))
        events.put_targets(
            Rule="capture-npsloop", EventBusName=bus, Targets=[{"Id": "q", "Arn": self._arn(self.events_url)}]
        )

    def _queue(self, name: str) -> str:
        return self.sqs.create_queue(QueueName=name)["QueueUrl"]

    def _arn(self, url: str) -> str:
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def _drain(self, url: str) -> list[dict[str, Any]]:
        bodies = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def alerts(self) -> list[dict[str, Any]]:
        return [
            {"body": json.loads(n["Message"]), "attributes": {k: v["Value"] for k, v in n["MessageAttributes"].items()}}
            for n in self._drain(self.alerts_url)
        ]

    def events(self) -> list[dict[str, Any]]:
        return self._drain(self.events_url)


@pytest.fixture
def capture(stack) -> Capture:
    return Capture(stack)


def write_response(table, image: dict[str, Any]) -> None:
    table.client.put_item(TableName=table.name, Item={k: _serializer.serialize(v) for k, v in image.items()})


def api(stack, method: str, path: str, sub: str, query: dict[str, str] | None = None, body: Any = None, groups=""):
    event = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "authorizer": {"jwt": {"claims": {"sub": sub, "cognito:groups": groups}, "scopes": []}},
            "domainName": "local",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
            "requestId": "r",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "20/Nov/2026:10:30:00 +0000",
            "timeEpoch": 1795170600000,
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = json.dumps(body)
    result = stack.invoke("ApiFunction", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def test_a_detractor_in_the_table_opens_a_case_alerts_and_tells_the_bus_once(stack, table, capture, clock):
    meter = AwsMeter().install()  # before the function's first client: clients copy the session's hooks
    image = response_image("inv-int-1", score=2, comment="Reklamacja odrzucona", created_at=clock.now())
    write_response(table, image)
    stack.drain()

    case = table.get("CASE#inv-int-1", "CASE")
    assert case is not None
    assert (case["status"]["S"], case["owner_id"]["S"], case["gsi1pk"]["S"]) == (
        "open",
        "u-anna.nowak",
        "OWNER#u-anna.nowak",
    )
    alerts = capture.alerts()
    assert sorted(a["attributes"]["rule"] for a in alerts) == ["comment-keyword", "detractor"]
    assert {a["attributes"]["store"] for a in alerts} == {"WAW-02"}
    assert all(a["body"]["case_url"].endswith("/cases/inv-int-1") for a in alerts)
    events = capture.events()
    assert sorted(e["detail-type"] for e in events) == ["CaseOpened", "DetractorReceived"]
    assert {e["source"] for e in events} == {"npsloop"}
    (mail,) = stack.outbox_messages()  # mazowieckie routes to "both": one email naming both rules
    text = mail.get_body(("plain",)).get_content()
    assert "Niska ocena (krytyk)" in text and "Słowa w komentarzu: „Reklamacja”" in text

    # Lambda redelivers the batch: nothing new anywhere, and each done step is known from its failed
    # claim alone (the claim put returns the item in the way: no read after it).
    meter.reset()
    result = stack.invoke("AlertFunction", batch(stream_record(image)))
    calls = meter.snapshot()[0]
    meter.uninstall()
    # four claims refused (case, detractor, keyword, email); the raw-count cluster rule is off (alerts.toml)
    assert calls == {"dynamodb:PutItem": 4}
    stack.drain()
    assert result == {"batchItemFailures": []}
    assert capture.alerts() == [] and capture.events() == []
    assert len(table.items("case")) == 1
    assert len(stack.outbox_messages()) == 1


def test_a_poison_response_is_parked_in_the_alert_dlq(stack, table, capture, clock):
    bad = response_image("inv-bad", score=2, created_at=clock.now())
    bad["survey_type"] = "mood"
    write_response(table, bad)
    write_response(table, response_image("inv-good", score=1, created_at=clock.now()))
    stack.drain()

    (parked,) = stack.dead_letters("AlertDeadLetterQueue")
    assert parked["dynamodb"]["Keys"]["pk"]["S"] == "INV#inv-bad"
    assert [a["body"]["invitation_id"] for a in capture.alerts()] == ["inv-good"]


def test_the_case_api_lists_reads_and_updates_a_case_and_announces_its_closing(stack, table, capture, clock):
    write_response(table, response_image("inv-api", score=3, created_at=clock.now()))
    stack.drain()
    capture.events()

    status, page = api(stack, "GET", "/api/cases", "u-anna.nowak", {"owner": "u-anna.nowak", "status": "open"})
    assert status == 200
    assert [c["case_id"] for c in page["cases"]] == ["inv-api"] and page["next"] is None
    status, page = api(stack, "GET", "/api/cases", "u-admin", {"status": "open"}, groups="[npsloop-admin]")
    assert (status, [c["case_id"] for c in page["cases"]]) == (200, ["inv-api"])
    status, page = api(stack, "GET", "/api/cases", "u-stranger", {"store": "WAW-02"})
    assert (status, page["cases"]) == (200, [])
    assert api(stack, "GET", "/api/cases", "u-anna.nowak")[0] == 400

    status, case = api(stack, "GET", "/api/cases/inv-api", "u-piotr.wisniewski")
    assert (status, case["version"], case["owner"]["id"]) == (200, 1, "u-anna.nowak")
    assert api(stack, "GET", "/api/cases/inv-api", "u-stranger")[0] == 403
    assert api(stack, "GET", "/api/cases/nope", "u-anna.nowak")[0] == 404

    path = "/api/cases/inv-api"
    status, problem = api(stack, "PATCH", path, "u-anna.nowak", body={"status": "resolved", "root_cause": "price"})
    assert (status, problem["error"]) == (422, "invalid_transition")
    assert problem["message"].startswith("cannot go from open to resolved: ")
    status, problem = api(stack, "PATCH", path, "u-anna.nowak", body={"root_cause": "weather"})
    assert (status, problem["error"]) == (422, "unknown_root_cause")
    assert api(stack, "PATCH", path, "u-stranger", body={"status": "in_progress"})[0] == 403
    assert api(stack, "PATCH", path, "u-anna.nowak", body={"status": "in_progress", "expected_version": 9})[0] == 409
    assert api(stack, "PATCH", path, "u-anna.nowak", body={"colour": "red"})[0] == 400

    for body in (
        {"status": "in_progress", "expected_version": 1},
        {"status": "contacted", "note": "Rozmowa, przeprosiny"},
        {"status": "resolved", "root_cause": "staff_behaviour"},
    ):
        status, case = api(stack, "PATCH", path, "u-anna.nowak", body=body)
        assert status == 200, case
    assert (case["status"], case["version"], case["root_cause"]) == ("resolved", 4, "staff_behaviour")
    assert [n["text"] for n in case["notes"]] == ["Rozmowa, przeprosiny"]
    (closed,) = [e for e in capture.events() if e["detail-type"] == "CaseClosed"]
    assert (closed["detail"]["event_id"], closed["detail"]["status"]) == ("npsloop:CaseClosed:inv-api", "resolved")
    assert closed["detail"]["case_url"] == f"{stack.base_url}/cases/inv-api"  # from the request: no cycle
    assert table.get("CASE#inv-api", "CASE")["gsi3sk"]["S"].startswith("~")  # listed as nothing due
    assert "gsi4pk" not in table.get("CASE#inv-api", "CASE")  # off the sweep's work-due index


def test_the_sweep_escalates_an_overdue_case_once_when_the_schedule_fires(stack, table, capture, clock):
    write_response(table, response_image("inv-late", score=4, store="LON-01", region="london", created_at=clock.now()))
    stack.drain()
    capture.alerts()

    clock.advance(timedelta(days=5))  # Friday 10:30 UTC + 16 working hours is Tuesday; now it is Wednesday
    stack.drain()
    clock.advance(timedelta(minutes=30))
    stack.drain()

    case = table.get("CASE#inv-late", "CASE")
    assert "escalated_at" in case
    escalations = [a for a in capture.alerts() if a["attributes"]["kind"] == "escalation"]
    assert [a["body"]["recipient_id"] for a in escalations] == ["u-olivia.jones"]


def test_case_list_cursors_page_when_genuine_and_every_forged_one_is_a_400(stack, table, clock):
    # GIVEN three open cases of one owner
    for invitation_id in ("inv-p1", "inv-p2", "inv-p3"):
        write_response(table, response_image(invitation_id, score=3, created_at=clock.now()))
    stack.drain()
    query = {"owner": "u-anna.nowak", "status": "open", "limit": "1"}

    # WHEN the owner pages through them one at a time with the cursors the API gives out
    seen, cursor = [], None
    for _ in range(4):
        status, page = api(
            stack, "GET", "/api/cases", "u-anna.nowak", {**query, **({"next": cursor} if cursor else {})}
        )
        assert status == 200
        seen += [c["case_id"] for c in page["cases"]]
        cursor = page["next"]
        if cursor is None:
            break
    # THEN every case comes once
    assert sorted(seen) == ["inv-p1", "inv-p2", "inv-p3"]

    # AND a genuine cursor is refused for another query or another caller
    status, first = api(stack, "GET", "/api/cases", "u-anna.nowak", query)
    genuine = first["next"]
    assert (
        api(stack, "GET", "/api/cases", "u-anna.nowak", {**query, "status": "in_progress", "next": genuine})[0] == 400
    )
    assert api(stack, "GET", "/api/cases", "u-other", {**query, "next": genuine})[0] == 400

    # AND every forged or corrupted cursor gets a 400 with a reason, never a 500
    payload = genuine.split(".")[0]
    forged = [*forged_cursors(), genuine[:-2], payload, f"{payload}.{genuine.split('.')[1][::-1]}"]
    answers = [api(stack, "GET", "/api/cases", "u-anna.nowak", {**query, "next": bad}) for bad in forged]
    assert {status for status, _ in answers} == {400}
    assert all(body["error"] == "invalid_cursor" and body["message"].startswith("next: ") for _, body in answers)


def test_one_sweep_reads_the_work_due_index_once_and_works_exactly_the_due_cases(stack, table, capture, clock):
    from npsloop.adapters.dynamodb_cases import DynamoCases
    from tests.unit.test_case_lifecycle import S, at_status, new_case

    # GIVEN a week after the cases were opened (their SLAs ran out on Tuesday), one case of each kind
    now = clock.now() + timedelta(days=7)
    clock.set(now)
    later = now + timedelta(days=1)

    def kind(case_id: str, case):
        return case.model_copy(update={"case_id": case_id, "invitation_id": case_id})

    cases = [
        kind("due-open", new_case()),  # SLA ran out: escalate
        kind("due-in-progress", at_status(S.IN_PROGRESS)),  # SLA ran out: escalate
        kind("due-retry", at_status(S.UNREACHABLE).model_copy(update={"retry_at": now - timedelta(hours=1)})),
        kind("due-closed-event", at_status(S.RESOLVED)),  # CaseClosed never confirmed: resend
        kind("not-due-open", new_case().model_copy(update={"sla_due_at": later})),
        kind("not-due-retry", at_status(S.UNREACHABLE).model_copy(update={"retry_at": later})),
        kind("escalated", new_case().escalate(now - timedelta(days=1))),
        kind("contacted", at_status(S.CONTACTED)),
        kind("closed", at_status(S.CLOSED).model_copy(update={"closed_event_pending": False})),
    ]
    repository = DynamoCases(table.name, client=table.client)
    for case in cases:
        assert repository.create(case)
    before = {c.case_id: table.get(f"CASE#{c.case_id}", "CASE") for c in cases}
    assert {k for k, item in before.items() if "gsi4pk" in item} == {
        "due-open", "due-in-progress", "due-retry", "due-closed-event", "not-due-open", "not-due-retry"
    }  # fmt: skip

    # WHEN the schedule fires the sweep once, with every AWS call of the function counted
    meter = AwsMeter().install()
    try:
        done = stack.invoke("CasesFunction", {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})
        calls = meter.snapshot()[0]
    finally:
        meter.uninstall()

    # THEN one Query read the due cases, and the due cases were worked: nothing else was touched
    assert calls["dynamodb:Query"] == 1
    assert done == {"escalated": 2, "reopened": 1, "closed_events": 1, "conflicts": 0, "failed": 0}
    after = {c.case_id: table.get(f"CASE#{c.case_id}", "CASE") for c in cases}
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"due-open", "due-in-progress", "due-retry", "due-closed-event"}
    assert {k for k in changed if "escalated_at" in after[k]} == {"due-open", "due-in-progress"}
    assert after["due-retry"]["status"]["S"] == "in_progress"
    assert after["due-closed-event"]["closed_event_pending"]["BOOL"] is False
    # the worked cases left the work-due index; the ones not yet due wait in it
    assert {k for k, item in after.items() if "gsi4pk" in item} == {"not-due-open", "not-due-retry"}
    stack.drain()
    notices = sorted((a["attributes"]["kind"], a["body"]["case_id"]) for a in capture.alerts())
    assert notices == [("escalation", "due-in-progress"), ("escalation", "due-open"), ("retry", "due-retry")]
    assert [e["detail"]["case_id"] for e in capture.events() if e["detail-type"] == "CaseClosed"] == [
        "due-closed-event"
    ]


def test_a_stale_case_save_reports_the_stored_version_from_its_failed_write_alone(stack, table):
    import boto3

    from npsloop.adapters.dynamodb_cases import DynamoCases
    from npsloop.ports.cases import VersionConflict
    from tests.unit.test_case_lifecycle import S, move, new_case

    meter = AwsMeter().install()
    cases = DynamoCases(table.name, client=boto3.client("dynamodb"))  # a client made after the meter
    case = new_case()
    cases.create(case)
    cases.save(move(case, S.IN_PROGRESS), expected_version=1)

    meter.reset()
    with pytest.raises(VersionConflict) as conflict:
        cases.save(move(case, S.IN_PROGRESS), expected_version=1)  # read at version 1; it is at 2 now
    calls = meter.snapshot()[0]
    meter.uninstall()

    assert conflict.value.current == 2
    assert calls == {"dynamodb:PutItem": 1}


def test_the_daily_trend_scan_alerts_a_store_whose_detractors_rose_once_with_its_role(stack, table, capture, clock):

    from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
    from npsloop.domain.aggregates import AggregateKey, Delta
    from npsloop.domain.surveys import SurveyType
    from npsloop_local.template import Template
    from tests.conftest import ROOT

    writer = DynamoAggregates(table.name, client=table.client)
    today = clock.now().date()
    for back in range(1, 71):  # 56 baseline days, then 14 recent ones up to yesterday
        day = today - timedelta(days=back)
        for store, recent_detractors in (("KRK-02", 20), ("WAW-01", 5)):
            detractors = recent_detractors if back <= 14 else 5
            counts = {10: 55, 8: 45 - detractors, 3: detractors}
            key = AggregateKey("post-purchase-nps", "store", store, day)
            writer.add(f"t-{store}-{day}", key, Delta(SurveyType.NPS, 100, counts), clock.now(), clock.now())
    schedule = Template.load(ROOT / "template.yaml").resources["CasesFunction"]["Properties"]["Events"]["TrendScan"]

    first = stack.invoke("CasesFunction", json.loads(schedule["Properties"]["Input"]))
    again = stack.invoke("CasesFunction", json.loads(schedule["Properties"]["Input"]))  # a redelivered tick
    stack.drain()

    assert (first, again) == ({"drops": 1, "alerts_sent": 1}, {"drops": 1, "alerts_sent": 0})
    (alert,) = capture.alerts()
    assert (alert["attributes"]["rule"], alert["attributes"]["store"]) == ("segment-trend", "KRK-02")
    assert alert["body"]["recipient_id"] == "u-ewa.mazur"
    assert alert["body"]["trend"]["recent"]["n"] == 1400
    assert len(stack.outbox_messages()) == 1  # KRK-02 routes to "both": one email to its owner


def test_a_changed_answer_moves_the_stored_case_and_keeps_the_old_one_in_its_history(stack, table, clock):
    # GIVEN a detractor's case in the table
    first = response_image("inv-int-7", score=4, comment="Długa kolejka", created_at=clock.now())
    write_response(table, first)
    stack.drain()

    # WHEN the customer changes the answer (the respond function writes version 2)
    changed = {**first, "score": 1, "comment": "Długa kolejka, nikt nie pomógł", "version": 2}
    write_response(table, changed)
    stack.drain()

    # THEN the stored case (read back through the API) has the new answer and the change
    status, body = api(stack, "GET", "/api/cases/inv-int-7", sub="u-anna.nowak")
    assert status == 200
    assert (body["score"], body["comment"], body["answer_version"]) == (1, "Długa kolejka, nikt nie pomógł", 2)
    assert [(c["from_score"], c["to_score"], c["previous_comment"]) for c in body["answer_changes"]] == [
        (4, 1, "Długa kolejka")
    ]
