"""DynamoDB reads and server time per dashboard view, at 10,000 and at 200,000 answers (`make bench`, 5).

    .venv/bin/python benchmarks/dashboard.py [--small 10000] [--large 200000] [--views 30]

Each size gets its own local stack (template.yaml, IAM enforced) holding the aggregates of that many
answers over the last 180 days (the 90-day default view and the 90 days before it, which the change
is measured against): three programs, 20 stores in 4 regions, three channels. The aggregates are
written through the domain and the adapter (``contributions`` -> ``coalesce`` ->
``DynamoAggregates.create_all``/``add``), not through the stream: 200,000 answers through moto's
stream and the score function take many minutes here (section 4 of ``make bench`` times that path
for the score API). The items are the ones the score function writes for those answers: same keys,
same counts.

A view is ``GET /dashboard`` (all its sections: tiles, trend, answers, table, cases, the trend alert's
baseline; a container re-runs the trend scan of the other segments once per 5 minutes, so one view
after the clock moved on is measured apart) for a signed-in
persona: the session comes from the local hosted sign-in (the tests' ``WebClient``), then the
WebFunction's handler is invoked in-process with that cookie (``stack.invoke``). Server time is the
handler's own (API Gateway's hop is not in it), and moto's share of it (answering the queries: real
DynamoDB answers a query of a few thousand small items in tens of milliseconds) is printed apart;
reads are every AWS call the handler makes (``AwsMeter``): calls, items read (DynamoDB's
ScannedCount) and read units estimated from item sizes. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "npsloop"), str(ROOT / "local"), str(ROOT)]

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAYS = 180
ROUTED = {"KRK-02": "malopolskie", "WAW-01": "mazowieckie", "online-pl": "mazowieckie"}
REGIONS = ("malopolskie", "mazowieckie", "slaskie", "pomorskie")
STORES = {**ROUTED, **{f"S-{n:02d}": REGIONS[n % len(REGIONS)] for n in range(3, 20)}}
# program, survey, share of the answers, channels; CES answers (support tickets) name no store.
PROGRAMS = (
    ("post-purchase-nps", "nps", 0.60, ("web", "app", "store")),
    ("store-visit-csat", "csat", 0.25, ("store",)),
    ("support-ces", "ces", 0.15, ("web", "app")),
)
SCALE = {"nps": range(11), "csat": range(1, 6), "ces": range(1, 8)}
PERSONAS = (("cx-lead", "CX lead, whole network, store table"), ("store-KRK-02", "store manager KRK-02"))
SEED_CHUNK = 100  # keys per seeding step (one transaction of puts where the keys are new)


def answers(total: int, rng: random.Random) -> Iterator[Any]:
    """``total`` responses spread over the last ``DAYS`` days, deterministic for a given ``rng``."""
    from npsloop.domain.responses import Response
    from npsloop.domain.surveys import SurveyType

    stores = list(STORES)
    for n in range(total):
        draw = rng.random()
        program, survey, channels = next(
            (p, s, c) for p, s, share, c in PROGRAMS if (draw := draw - share) < 0 or p == PROGRAMS[-1][0]
        )
        at = NOW - timedelta(days=1 + rng.randrange(DAYS), seconds=rng.randrange(86_400))
        channel = rng.choice(channels)
        context = {"channel": channel}
        if survey != "ces":
            store = "online-pl" if channel != "store" else rng.choice(stores)
            context |= {"store": store, "region": STORES[store]}
        yield Response(
            invitation_id=f"bench{n:027d}",
            program_id=program,
            program_version=1,
            survey_type=SurveyType(survey),
            customer_id=f"C-{n}",
            locale="pl",
            context=context,
            score=rng.choice(SCALE[survey]),
            version=1,
            created_at=at,
            updated_at=at,
        )


def seed(table_name: str, total: int) -> tuple[int, int]:
    """Write the aggregates of ``total`` answers; return (items written, NPS answers in the default view)."""
    from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
    from npsloop.domain.aggregates import coalesce, contributions
    from npsloop.domain.programs import load_programs

    programs = load_programs()
    rng = random.Random(20261201)
    parts = []
    nps_in_view = 0
    first_in_view = (NOW - timedelta(days=89)).date()
    for response in answers(total, rng):
        program = programs.get(response.program_id)
        parts.append(contributions(None, response, program.dimensions))
        if response.program_id == "post-purchase-nps" and response.created_at.date() >= first_in_view:
            nps_in_view += 1
    deltas = sorted(coalesce(parts).items())
    writer = DynamoAggregates(table_name)
    expires = NOW + timedelta(days=2)
    for start in range(0, len(deltas), SEED_CHUNK):
        chunk = deltas[start : start + SEED_CHUNK]
        journal = secrets.token_hex(16)
        created = writer.create_all(journal, chunk, expires, NOW)
        for key, delta in chunk:
            if key not in created:
                writer.add(journal, key, delta, expires, NOW)
    return len(deltas), nps_in_view


def view_event(query: dict[str, str], cookies: dict[str, str]) -> dict[str, Any]:
    """``GET /dashboard?<query>`` as API Gateway's HTTP API (payload 2.0) hands it to the WebFunction."""
    from urllib.parse import urlencode

    return {
        "version": "2.0",
        "routeKey": "GET /dashboard",
        "rawPath": "/dashboard",
        "rawQueryString": urlencode(query),
        "cookies": [f"{name}={value}" for name, value in cookies.items()],
        "headers": {"accept": "text/html", "accept-language": "en-GB,en;q=0.8", "host": "127.0.0.1"},
        **({"queryStringParameters": query} if query else {}),
        "requestContext": {
            "http": {
                "method": "GET",
                "path": "/dashboard",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "bench",
            },
            "requestId": "bench",
            "routeKey": "GET /dashboard",
            "stage": "$default",
            "timeEpoch": int(NOW.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }


@dataclass
class Measured:
    calls: dict[str, float]
    items: float
    rcu: float
    p50_ms: float
    p95_ms: float
    moto_p50_ms: float  # of which moto answering the calls
    rescan_calls: float = 0  # one view whose container re-runs the trend scan (once per 5 minutes)
    rescan_items: float = 0
    rescan_ms: float = 0

    @property
    def total_calls(self) -> float:
        return sum(self.calls.values())


@contextlib.contextmanager
def _moto_time(spent: list[float]) -> Iterator[None]:
    """Adds the time moto takes to answer each AWS call to ``spent[-1]``."""
    from moto.core.botocore_stubber import BotocoreStubber

    answer = BotocoreStubber.process_request

    def timed(self: Any, request: Any) -> Any:
        began = time.perf_counter()
        try:
            return answer(self, request)
        finally:
            spent[-1] += time.perf_counter() - began

    BotocoreStubber.process_request = timed  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.process_request = answer  # type: ignore[method-assign]


@contextlib.contextmanager
def _stack(clock: Any) -> Iterator[Any]:
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


def measure(total: int, views: int) -> tuple[int, dict[str, Measured]]:
    from npsloop.clock import ManualClock
    from npsloop.services.dashboard import SCAN_FRESH_SECONDS
    from npsloop_local.metering import AwsMeter
    from tests.web_client import WebClient

    results: dict[str, Measured] = {}
    clock = ManualClock(NOW)
    with _stack(clock) as stack:
        meter = AwsMeter().install()  # after start: the stack gives boto3 a fresh default session
        items, nps_in_view = seed(stack.outputs["TableName"], total)
        for persona, _label in PERSONAS:
            client = WebClient(stack.base_url)
            client.sign_in(persona, start="/auth/sign-in?next=/dashboard")
            event = view_event({}, client.cookies)
            reply = stack.invoke("WebFunction", event)  # warm: clients built, templates compiled
            assert reply["statusCode"] == 200, reply.get("body", "")[:500]
            if persona == "cx-lead":  # the page shows the answers seeded, or the figures are of nothing
                shown = int(re.search(r'data-program="post-purchase-nps".*?data-n="(\d+)"', reply["body"], re.S)[1])
                assert shown == nps_in_view, (shown, nps_in_view)
            meter.reset()
            elapsed: list[float] = []
            in_moto: list[float] = []
            with _moto_time(in_moto):
                for _ in range(views):
                    in_moto.append(0.0)
                    began = time.perf_counter()
                    stack.invoke("WebFunction", event)
                    elapsed.append(time.perf_counter() - began)
            calls, _writes, reads = meter.snapshot()
            meter.reset()  # then one view after the container's trend scan went stale: it scans again
            clock.advance(timedelta(seconds=SCAN_FRESH_SECONDS))
            began = time.perf_counter()
            stack.invoke("WebFunction", event)
            rescan_ms = (time.perf_counter() - began) * 1000
            rescan_calls = sum(meter.snapshot()[0].values())
            results[persona] = Measured(
                calls={name: count / views for name, count in sorted(calls.items())},
                items=meter.items_read / views,
                rcu=reads / views,
                p50_ms=statistics.median(elapsed) * 1000,
                p95_ms=statistics.quantiles(elapsed, n=20)[18] * 1000,
                moto_p50_ms=statistics.median(in_moto) * 1000,
                rescan_calls=rescan_calls,
                rescan_items=meter.items_read,
                rescan_ms=rescan_ms,
            )
        meter.uninstall()
    return items, results


def report(small: int = 10_000, large: int = 200_000, views: int = 30) -> None:
    from npsloop.services.dashboard import SCAN_FRESH_SECONDS

    print(
        f"\n5. Dashboard: DynamoDB reads and server time per view ({small:,} and {large:,} answers over {DAYS} days, "
        f"20 stores, 3 programs; {views} views per persona, WebFunction handler in-process)"
    )
    print("   aggregates seeded through the domain (contributions -> coalesce) and the aggregate adapter,")
    print("   not the stream: 200,000 answers through moto's stream take many minutes here")
    measured = {}
    for total in (small, large):
        items, measured[total] = measure(total, views)
        print(f"   at {total:>7,} answers ({items:,} aggregate items in the table):")
        for persona, label in PERSONAS:
            m = measured[total][persona]
            detail = ", ".join(f"{name} {count:g}" for name, count in m.calls.items())
            print(
                f"      {label:<38} {m.total_calls:4g} calls ({detail}), {m.items:6,.0f} items, {m.rcu:5.1f} RCU;"
                f"  P50 {m.p50_ms:4.0f} ms (moto {m.moto_p50_ms:4.0f} ms), P95 {m.p95_ms:4.0f} ms"
            )
            rescan = "  a view that re-runs the trend scan"
            print(
                f"      {rescan:<38} {m.rescan_calls:4g} calls, {m.rescan_items:6,.0f} items, {m.rescan_ms:.0f} ms"
                f" (one view per container per {SCAN_FRESH_SECONDS // 60} minutes; the others reuse its tests)"
            )
    print(f"   ratio {large // 1000}k/{small // 1000}k (aim 1.0; P95 aim <= 300 ms):")
    for persona, label in PERSONAS:
        a, b = measured[small][persona], measured[large][persona]
        print(
            f"      {label:<38} calls {b.total_calls / a.total_calls:.2f}, items {b.items / a.items:.2f}, "
            f"RCU {b.rcu / a.rcu:.2f}, P50 {b.p50_ms / a.p50_ms:.2f}, P95 {b.p95_ms / a.p95_ms:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--views", type=int, default=30)
    args = parser.parse_args()
    logging.getLogger("npsloop_local").setLevel(logging.ERROR)
    report(args.small, args.large, args.views)


if __name__ == "__main__":
    main()
