"""The funnel through the local stack: business events -> invitations -> SES reports -> answers -> funnel days."""

from __future__ import annotations

import base64
import copy
import re
from datetime import timedelta

from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
from npsloop.services.funnel import FunnelService
from npsloop_local.streams import lambda_stream_record
from tests.fakes_delivery import ses_fixture, sns_event
from tests.stack_support import sent_emails, tokens_in
from tests.stream_records import redeliver
from tests.web_client import WebClient

BOUNCE = "bounce@simulator.amazonses.com"
COMPLAINT = "complaint@simulator.amazonses.com"
PROGRAM = "post-purchase-nps"


def order(event, number: int, email: str, name: str = "order-completed.json") -> dict:
    payload = copy.deepcopy(event(name))
    payload["id"] = payload["detail"]["event_id"] = f"evt-funnel-{number}"
    payload["detail"]["order_id"] = f"ORD-FUNNEL-{number}"
    payload["detail"]["customer"]["id"] = f"C-FUNNEL-{number}"
    if "email" in payload["detail"]["customer"]:
        payload["detail"]["customer"]["email"] = email
    return payload


def invite(stack, payload) -> tuple[dict, object | None]:
    """Invite one order; its outcome and the email it sent (None when skipped)."""
    before = set(stack.outbox)
    (outcome,) = stack.invoke("InviteFunction", payload)["outcomes"]
    new = [path for path in stack.outbox if path not in before]
    emails = [m for m in sent_emails(stack) if m is not None][-1:] if new else []
    return outcome, (emails[0] if emails else None)


def post(stack, event, name: str, token: str, body: str = "") -> dict:
    payload = event(name, token=token)
    payload["body"] = base64.b64encode(body.encode()).decode()
    payload["isBase64Encoded"] = True
    return stack.invoke("RespondFunction", payload)


def opened(stack, invitation_id: str) -> None:
    report = ses_fixture("ses-event-open")
    report["mail"]["tags"]["invitation"] = [invitation_id]
    stack.invoke("DeliveryFunction", sns_event(report))


def recount(table) -> dict[str, int]:
    """The funnel counted straight from the items: what the stream-kept days must equal."""
    counts: dict[str, int] = {}

    def bump(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    for item in table.items("invitation"):
        status = item["status"]["S"]
        if status == "sent":
            bump("invited")
            for stage in ("delivered", "opened", "bounced", "complained", "unsubscribed"):
                if f"{stage}_at" in item:
                    bump(stage)
        if status == "failed" or "delivery_failed_at" in item:
            bump("failed")
        if status == "skipped":
            bump("skipped")
            bump(f"skipped_{item['skip_reason']['S']}")
    for item in table.items("response"):
        bump("answered")
        if "comment" in item:
            bump("commented")
    return counts


def as_counts(funnel) -> dict[str, int]:
    found = {stage.name: stage.count for stage in funnel.stages}
    found |= {problem.name: problem.count for problem in funnel.problems}
    found |= {"skipped": funnel.skipped, "failed": funnel.failed}
    found |= {f"skipped_{reason}": k for reason, k in funnel.skipped_by_reason}
    return {name: k for name, k in found.items() if k}


def stream_records(stack) -> list[dict]:
    streams = stack.client("dynamodbstreams")
    arn = stack.attribute("Table", "StreamArn")
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        page = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)
        records += [lambda_stream_record(r, arn, stack.region) for r in page["Records"]]
    wanted = ({"S": "invitation"}, {"S": "response"})  # what the event source's filter lets through
    return [r for r in records if (r["dynamodb"].get("NewImage") or r["dynamodb"]["OldImage"]).get("entity") in wanted]


def test_the_funnel_kept_from_the_stream_equals_a_recount_and_a_replay_changes_nothing(stack, table, event, clock):
    sent = {}
    for number, email in enumerate(["ann@example.com", "bob@example.com", "cy@example.com", "di@example.com"]):
        outcome, message = invite(stack, order(event, number, email))
        sent[number] = (outcome["invitation_id"], tokens_in(message))
    invite(stack, order(event, 10, BOUNCE))
    invite(stack, order(event, 11, COMPLAINT))
    skipped, _ = invite(stack, order(event, 12, "x@example.com", "order-completed-no-consent.json"))
    invite(stack, order(event, 0, "ann@example.com"))  # the same business event again: one invitation
    stack.drain()  # SES's delivery, bounce and complaint reports; the stream consumers

    for number in (0, 1, 2):
        opened(stack, sent[number][0])
    opened(stack, sent[0][0])  # a second open of the same email: the stage was reached already
    stack.drain()
    clock.advance(timedelta(hours=20))  # the answers come the next UTC day: they count on the invitation's
    (links0, _), (links1, _), (_, unsubscribe3) = sent[0][1], sent[1][1], sent[3][1]
    assert post(stack, event, "respond-post.json", links0[9], "score=9&comment=Szybko")["statusCode"] == 200
    assert post(stack, event, "respond-post.json", links0[9], "score=10&comment=Szybko+i+miło")["statusCode"] == 200
    assert post(stack, event, "respond-post.json", links1[4], "score=4")["statusCode"] == 200
    assert post(stack, event, "unsubscribe-post.json", unsubscribe3)["statusCode"] == 200
    assert post(stack, event, "unsubscribe-post.json", unsubscribe3)["statusCode"] == 200  # twice: once
    stack.drain()

    client, name = stack.client("dynamodb"), stack.outputs["TableName"]
    funnels = FunnelService(reader=DynamoAggregates(name, client))
    day = clock.now().date() - timedelta(days=1)
    overall = funnels.funnel(PROGRAM, ("all", "all"), day - timedelta(days=7), day + timedelta(days=7))

    expected = recount(table)
    assert as_counts(overall) == expected
    assert expected == {
        "invited": 6,
        "delivered": 5,  # the bounce never arrived; the complaint did
        "opened": 3,
        "answered": 2,
        "commented": 1,
        "bounced": 1,
        "complained": 1,
        "unsubscribed": 1,
        "skipped": 1,
        "skipped_no_email_consent": 1,
    }
    assert skipped["reason"] == "no_email_consent"
    store = funnels.funnel(PROGRAM, ("store", "online-uk"), day, day)
    assert as_counts(store) == expected  # every order came from that store, all on one invitation day
    assert funnels.funnel(PROGRAM, ("all", "all"), day + timedelta(days=1), day + timedelta(days=7)).empty

    browser = WebClient(stack.base_url)
    browser.sign_in("cx-lead", start=f"/auth/sign-in?next=/dashboard?program={PROGRAM}")
    page = browser.go(f"/dashboard?program={PROGRAM}&from={day - timedelta(days=7)}&to={day + timedelta(days=7)}")
    funnel = page.body[page.body.index('id="funnel-title"') :]
    assert page.status == 200 and "Survey funnel" in funnel
    shown = re.findall(r'class="count">([\d\s\xa0,]+)<', funnel)
    assert [int(re.sub(r"\D", "", n)) for n in shown][:5] == [6, 5, 3, 2, 1]  # invited -> commented, on the page

    before = sorted(str(item) for item in table.items("funnel"))
    replay = redeliver(stack, "ScoreFunction", stream_records(stack))
    assert [reply["batchItemFailures"] for reply in replay] == [[], []]
    assert sorted(str(item) for item in table.items("funnel")) == before
    assert stack.dead_letters("ScoreDeadLetterQueue") == []
