"""`make bench`: cold start (benchmarks/cold_start.py), AWS calls and DynamoDB units per invitation
and response, demo throughput, reads and server time per dashboard view (benchmarks/dashboard.py), the scheduled
reports (benchmarks/reports.py), comment analysis (benchmarks/text.py).

Figures are printed, never asserted. Comparisons are ratios measured within this one run.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import re
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cold_start  # benchmarks/, first on the path when run as a script

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"https?://[^\s]+/r/([A-Za-z0-9._-]+)\?score=(\d+)")


@contextlib.contextmanager
def _local_stack(clock: Any) -> Iterator[Any]:
    """The template's stack, quiet, with its outbox and logs in a temporary directory."""
    from npsloop_local.stack import LocalStack

    with (
        tempfile.TemporaryDirectory() as scratch,
        LocalStack(
            template_path=ROOT / "template.yaml",
            parameters={"LogLevel": "ERROR"},
            clock=clock,
            outbox_dir=Path(scratch) / "outbox",
            logs_dir=Path(scratch) / "logs",
        ) as stack,
    ):
        yield stack


def api_costs(invitations: int = 200, responses: int = 100) -> None:
    from npsloop.clock import ManualClock
    from npsloop_local.metering import AwsMeter

    def load_event(name: str) -> dict:
        return json.loads((ROOT / "events" / name).read_text(encoding="utf-8"))

    print(f"\n2. AWS API calls and DynamoDB capacity (local stack, {invitations} invitations, {responses} responses)")
    clock = ManualClock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    with _local_stack(clock) as stack:
        meter = AwsMeter().install()  # after start: the stack gives boto3 a fresh default session
        template = load_event("order-completed.json")
        stack.invoke("InviteFunction", copy.deepcopy(template))  # warm: secret fetched, clients built
        meter.reset()
        for n in range(invitations):
            payload = copy.deepcopy(template)
            payload["detail"]["order_id"] = f"ORD-BENCH-{n}"
            payload["detail"]["customer"]["id"] = f"C-BENCH-{n}"
            stack.invoke("InviteFunction", payload)
        calls, writes, reads = meter.snapshot()
        _print_costs("per invitation sent (send included)", calls, writes, reads, invitations, target="<= 6 calls")

        meter.reset()
        payload = copy.deepcopy(template)
        payload["detail"]["order_id"] = f"ORD-BENCH-{0}"
        payload["detail"]["customer"]["id"] = "C-BENCH-0"
        stack.invoke("InviteFunction", payload)
        calls, writes, reads = meter.snapshot()
        _print_costs("per duplicate delivery", calls, writes, reads, 1)

        meter.reset()
        stack.drain()  # SES delivery reports (SNS -> delivery) and the export of the sent invitations
        calls, writes, reads = meter.snapshot()
        _print_costs("delivery report + export, per invitation", calls, writes, reads, invitations)

        import email
        from email import policy

        paths = list(stack.outbox)[:responses]
        links = []
        for path in paths:
            text = email.message_from_bytes(path.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
            links.append(next(m.group(0) for m in LINK.finditer(text) if m.group(2) == "9"))
        meter.reset()
        for url in links:
            with urllib.request.urlopen(url) as reply:
                reply.read()
            body = urllib.parse.urlencode({"score": "9", "comment": "Quick and friendly."}).encode()
            with urllib.request.urlopen(urllib.request.Request(url.split("?")[0], data=body)) as reply:
                reply.read()
        calls, writes, reads = meter.snapshot()
        _print_costs("per response (GET page + POST)", calls, writes, reads, len(links))
        respond_writes = writes
        meter.reset()
        stack.drain()  # the stream consumers: score, alert (none: all promoters), export
        calls, writes, reads = meter.snapshot()
        _print_costs("stream consumers, per response", calls, writes, reads, len(links))
        print(
            f"   write units per response, amortised with aggregates: {(respond_writes + writes) / len(links):.2f} WCU"
            "   (target <= 1.5)"
        )
        meter.uninstall()


def _print_costs(label: str, calls, writes: float, reads: float, n: int, target: str = "") -> None:
    total = sum(calls.values())
    detail = ", ".join(f"{name} {count / n:.2f}" for name, count in sorted(calls.items()))
    print(f"   {label:<38} {total / n:5.2f} calls  {writes / n:5.2f} WCU  {reads / n:5.2f} RCU   {target}")
    print(f"      {detail}")


STORES = [f"S-{n:02d}" for n in range(20)]
CPU_SAMPLE = 1_000


def _response_record(n: int, day: datetime, score: int, sequence: int) -> dict:
    """A DynamoDB stream INSERT record of a response, in the shape Lambda delivers."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    at = day.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    store = STORES[n % len(STORES)]
    image = {
        "pk": f"INV#bench{n:027d}",
        "sk": "RESPONSE",
        "entity": "response",
        "invitation_id": f"bench{n:027d}",
        "program_id": "post-purchase-nps",
        "program_version": 2,
        "survey_type": "nps",
        "customer_id": f"C-{n}",
        "locale": "pl",
        "context": {"store": store, "region": f"R-{n % 4}", "channel": "store"},
        "vip": False,
        "score": score,
        "version": 1,
        "created_at": at,
        "updated_at": at,
    }
    return {
        "eventID": f"bench-{sequence}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": int(day.timestamp()),
            "Keys": {"pk": {"S": image["pk"]}, "sk": {"S": "RESPONSE"}},
            "NewImage": {k: serializer.serialize(v) for k, v in image.items()},
            "SequenceNumber": f"{sequence:021d}",
            "SizeBytes": 400,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/npsloop-dev/stream/2026-01-01T00:00:00.000",
    }


def _api_event(path: str, query: dict[str, str]) -> dict:
    return {
        "version": "2.0",
        "routeKey": "GET /api/programs/{program_id}/scores",
        "rawPath": path,
        "rawQueryString": urllib.parse.urlencode(query),
        "queryStringParameters": query,
        "headers": {"accept": "application/json"},
        "pathParameters": {"program_id": path.split("/")[3]},
        "requestContext": {
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "b"},
            "requestId": "bench",
            "routeKey": "GET /api/programs/{program_id}/scores",
            "stage": "$default",
            "authorizer": {"jwt": {"claims": {"sub": "bench", "cognito:groups": "[npsloop-admin]"}, "scopes": None}},
        },
        "isBase64Encoded": False,
    }


def stream_consumers_and_score_api(small: int = 10_000, large: int = 200_000, days: int = 30) -> None:
    """Consumer CPU per record, write units per response with aggregates, and score-API reads vs volume."""
    from datetime import timedelta

    from npsloop.clock import ManualClock
    from npsloop_local.metering import AwsMeter

    print(f"\n4. Stream consumers and the score API ({small:,} then {large:,} responses over {days} days, 20 stores)")
    start = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    clock = ManualClock(start + timedelta(days=days))
    with _local_stack(clock) as stack:
        meter = AwsMeter().install()
        query = {"from": start.date().isoformat(), "to": (start + timedelta(days=days - 1)).date().isoformat()}
        query |= {"period": "month", "group_by": "store"}
        path = "/api/programs/post-purchase-nps/scores"
        sequence = 0
        fed = 0
        score_writes = 0.0
        cpu = {"ScoreFunction": 0.0, "AlertFunction": 0.0, "ExportFunction": 0.0}
        measured = {"ScoreFunction": 0, "AlertFunction": 0, "ExportFunction": 0}
        for target in (small, large):
            while fed < target:
                size = 100
                day = start + timedelta(days=(fed * days) // large if target == large else (fed * days) // small)
                batch = []
                for _ in range(size):
                    sequence += 1
                    batch.append(_response_record(fed, day, (fed * 7) % 11, sequence))
                    fed += 1
                # alert and export are timed on the first 1,000 records: alert's side effects per
                # detractor (claims, case, SNS, email, bus) make it the slow one here.
                for function in ("ScoreFunction",) if fed > CPU_SAMPLE else tuple(cpu):
                    meter.reset()
                    began = time.process_time()
                    stack.invoke(function, {"Records": batch})
                    cpu[function] += time.process_time() - began
                    measured[function] += len(batch)
                    if function == "ScoreFunction":
                        score_writes += meter.snapshot()[1]
            meter.reset()
            began = time.perf_counter()
            reply = stack.invoke("ApiFunction", _api_event(path, query))
            elapsed = time.perf_counter() - began
            calls, _writes, reads = meter.snapshot()
            groups = len(json.loads(reply["body"]).get("groups", []))
            print(
                f"   score API, month x store at {fed:>7,} responses: {sum(calls.values())} calls "
                f"({', '.join(f'{k} {v}' for k, v in calls.items())}), {reads:.1f} RCU, {groups} groups, "
                f"{elapsed * 1000:.0f} ms in-process"
            )
        print(
            f"   aggregate writes: {score_writes / fed:.2f} WCU per response over {fed:,} responses "
            "(+1 WCU for the response itself; batches of 100 on one day, 20 stores)"
        )
        for function, seconds in cpu.items():
            if measured[function]:
                print(
                    f"   {function:<16} CPU {seconds / measured[function] * 1e6:8.0f} us per record "
                    "(in-process, moto's own work included)"
                )
        meter.uninstall()


def demo_throughput(customers: int = 400, days: int = 30) -> None:
    from npsloop_local import demo

    print(f"\n3. Demo throughput ({customers} customers, {days} days, in-process stack)")
    with tempfile.TemporaryDirectory() as outbox:
        started = time.perf_counter()
        stats = demo.simulate(customers=customers, days=days, workers=4, outbox=Path(outbox), quiet=True)
        elapsed = time.perf_counter() - started
    print(
        f"   {stats.events_put} business events in {elapsed:.1f} s = {stats.events_put / elapsed:.0f} events/s "
        f"(with {stats.responses_posted} responses over HTTP)"
    )


def main() -> None:
    logging.getLogger("npsloop_local").setLevel(logging.ERROR)  # retries are expected; figures are the output
    cold_start.report()
    api_costs()
    demo_throughput()
    stream_consumers_and_score_api()
    __import__("dashboard").report()  # benchmarks/dashboard.py
    __import__("calls_per_event").report()  # benchmarks/calls_per_event.py (this script's directory is on the path)
    __import__("reports").report()  # benchmarks/reports.py
    __import__("cost").main()  # benchmarks/cost.py
    __import__("text").report()  # benchmarks/text.py: comment analysis


if __name__ == "__main__":
    main()
