"""Replay the invite function's dead-letter queue onto the event bus, for an operator.

    python tools/redrive_invite_dlq.py --queue-url URL --event-bus npsloop-prod [--dry-run]
        [--include-invalid] [--endpoint-url http://127.0.0.1:4566] [--region eu-west-1]

The queue holds three kinds of message:
- the EventBridge rule's dead letter: the body is the event itself (EventBridge could not invoke the
  function; attributes ERROR_CODE, ERROR_MESSAGE, RULE_ARN, TARGET_ARN);
- Lambda's on-failure invocation record: the event is its ``requestPayload`` (every retry failed,
  e.g. while SES sending was paused);
- an event the handler parked as invalid (attribute ``parked_by``, with the ``reason``): replaying it
  fails the same way, so it is skipped unless ``--include-invalid`` (after the sender has fixed it).
Each event is put on the bus again (a new event id; the invitation id comes from the business key, so
a replay of an invitation already sent is a duplicate and sends nothing). A message is deleted only
after PutEvents accepted its event. Works against AWS and, with ``--endpoint-url``, the local stack.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from typing import Any

import boto3

BATCH = 10  # ReceiveMessage and PutEvents both take at most 10
VISIBILITY_SECONDS = 120  # long enough to put and delete one batch


@dataclass
class Report:
    received: int = 0
    redriven: int = 0
    failed: int = 0  # PutEvents refused the entry: the message stays in the queue
    skipped_invalid: int = 0
    unrecognised: int = 0  # neither an event nor an invocation record: left for a person
    dry_run: bool = False


def original_event(message: dict[str, Any]) -> dict[str, Any] | None:
    """The business event a dead-letter message carries, or None when it carries none."""
    try:
        body = json.loads(message["Body"])
    except ValueError:
        return None
    if isinstance(body, dict) and "requestContext" in body and "requestPayload" in body:
        body = body["requestPayload"]  # Lambda's asynchronous invocation record
    if isinstance(body, dict) and all(key in body for key in ("source", "detail-type", "detail")):
        return body
    return None


def is_parked(message: dict[str, Any]) -> bool:
    return "parked_by" in message.get("MessageAttributes", {})


def entry_for(event: dict[str, Any], event_bus: str) -> dict[str, Any]:
    entry = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
        "EventBusName": event_bus,
        "Resources": list(event.get("resources") or []),
    }
    if event.get("time"):
        entry["Time"] = event["time"]  # when the business fact happened, as first published
    return entry


def redrive(
    sqs: Any, events: Any, queue_url: str, event_bus: str, *, dry_run: bool = False, include_invalid: bool = False
) -> Report:
    report = Report(dry_run=dry_run)
    left: list[str] = []  # receipt handles of messages we looked at and keep: visible again at the end
    seen: set[str] = set()
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=BATCH,
            MessageAttributeNames=["All"],
            VisibilityTimeout=VISIBILITY_SECONDS,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        to_put: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for message in fresh:
            seen.add(message["MessageId"])
            report.received += 1
            event = original_event(message)
            if event is None:
                report.unrecognised += 1
            elif is_parked(message) and not include_invalid:
                report.skipped_invalid += 1
            else:
                to_put.append((message, entry_for(event, event_bus)))
                continue
            left.append(message["ReceiptHandle"])
        if dry_run:
            report.redriven += len(to_put)
            left.extend(message["ReceiptHandle"] for message, _ in to_put)
            continue
        _put_and_delete(sqs, events, queue_url, to_put=to_put, report=report, left=left)
    for handle in left:  # visible again now, not after the visibility timeout
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return report


def _put_and_delete(
    sqs: Any,
    events: Any,
    queue_url: str,
    *,
    to_put: list[tuple[dict[str, Any], dict[str, Any]]],
    report: Report,
    left: list[str],
) -> None:
    if not to_put:
        return
    result = events.put_events(Entries=[entry for _, entry in to_put])
    done = []
    for (message, _), outcome in zip(to_put, result["Entries"], strict=True):
        if outcome.get("EventId"):
            done.append(message)
        else:
            report.failed += 1
            left.append(message["ReceiptHandle"])
    if done:
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
        )
    report.redriven += len(done)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue-url", required=True, help="the invite DLQ (stack output InviteDeadLetterQueueUrl)")
    parser.add_argument("--event-bus", required=True, help="the bus to put the events on (output EventBusName)")
    parser.add_argument("--dry-run", action="store_true", help="count what would be replayed; change nothing")
    parser.add_argument("--include-invalid", action="store_true", help="replay events the handler parked as invalid")
    parser.add_argument("--endpoint-url", help="e.g. http://127.0.0.1:4566 for the local stack")
    parser.add_argument("--region", help="defaults to the AWS configuration's")
    args = parser.parse_args(argv)
    session = boto3.session.Session(region_name=args.region)
    sqs = session.client("sqs", endpoint_url=args.endpoint_url)
    events = session.client("events", endpoint_url=args.endpoint_url)
    report = redrive(
        sqs, events, args.queue_url, args.event_bus, dry_run=args.dry_run, include_invalid=args.include_invalid
    )
    print(json.dumps(asdict(report)))
    if report.skipped_invalid:
        print(
            f"{report.skipped_invalid} invalid event(s) left in the queue; fix them, or pass --include-invalid",
            file=sys.stderr,
        )
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
