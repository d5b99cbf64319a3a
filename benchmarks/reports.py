"""Scheduled reports (issue 11): render time per recipient and per scope, DynamoDB reads per recipient, and
the cost per 1,000 recipients at list prices (benchmarks/prices.toml). Part of `make bench`.

The whole path runs in the local stack as template.yaml wires it: the weekly store report's schedule
fires the planner, which reads the user pool's directory and queues one SQS job per recipient; the
worker (the SQS event source, batches of 10) renders and sends each. 20 stores in 4 regions, 12 weeks
and 12 months of answers, funnel days, and 20 answers per store in the reported week in the answer
index (half with a comment, for the comments section); 10 store managers per store and 2 regional
managers per region. Times are
in-process with moto (an upper bound for the AWS calls); chart drawing and rendering are pure Python and
Pillow, the same as on Lambda's arm64 at 1 GB (which has about 0.6 of a vCPU).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PRICES = Path(__file__).with_name("prices.toml")
REGIONS = {"mazowieckie": "M", "malopolskie": "K", "slaskie": "S", "pomorskie": "P"}
STORE_MANAGERS, REGION_MANAGERS = 10, 2
SUNDAY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
AFTER_RUNS = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


class _Clock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class _Timer:
    """Wraps a function and adds up its wall time and calls."""

    def __init__(self, owner: Any, name: str) -> None:
        self.owner, self.name, self.seconds, self.calls = owner, name, 0.0, 0
        self.original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - began
                self.calls += 1

        setattr(owner, name, timed)

    def restore(self) -> None:
        setattr(self.owner, self.name, self.original)


@contextlib.contextmanager
def _routing() -> Iterator[dict[str, str]]:
    """routing.toml with 20 stores in 4 regions (5 each), for every function of the stack."""
    import npsloop.domain.alerts as alerts
    from npsloop.domain.alerts import StoreRoute

    base = alerts.load_routing()
    stores = {f"{prefix}-{n:02d}": region for region, prefix in REGIONS.items() for n in range(1, 6)}
    table = base.model_copy(
        update={"store": tuple(StoreRoute(id=store, region=region) for store, region in stores.items())}
    )
    original = alerts.load_routing
    alerts.load_routing = lambda *args, **kwargs: table
    try:
        yield stores
    finally:
        alerts.load_routing = original


def _seed(stack: Any, stores: dict[str, str]) -> None:
    from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
    from npsloop.domain.aggregates import AggregateKey, Delta, FunnelDelta
    from npsloop.domain.surveys import SurveyType

    aggregates = DynamoAggregates(stack.outputs["TableName"], client=stack.client("dynamodb"))
    days = [date(2026, 11, 25) - timedelta(weeks=w) for w in range(12)]
    days += [date(2026, 11 - m, 10) for m in range(1, 11)] + [date(2025, 12, 10)]
    for day in days:
        totals: dict[tuple[str, str], Delta] = {}
        for i, (store, region) in enumerate(stores.items()):
            n = 40 + i
            counts = {10: n // 2, 3: n // 5 + i % 4, 8: n - n // 2 - n // 5 - i % 4}
            for key in (("store", store), ("region", region), ("all", "all")):
                totals.setdefault(key, Delta(SurveyType.NPS)).add(Delta(SurveyType.NPS, n=n, counts=counts))
        for (dimension, value), delta in totals.items():
            key = AggregateKey("post-purchase-nps", dimension, value, day)
            aggregates.add(f"bench-{dimension}-{value}-{day}", key, delta, AFTER_RUNS, AFTER_RUNS)
        funnels: dict[tuple[str, str], FunnelDelta] = {}
        for i, (store, region) in enumerate(stores.items()):
            sent = 120 + i
            counts = {"invited": sent, "delivered": sent - 3, "answered": 40 + i, "bounced": 3, "complained": i % 2}
            for key in (("store", store), ("region", region), ("all", "all")):
                total = funnels.setdefault(key, FunnelDelta())
                for stage, k in counts.items():
                    total.counts[stage] = total.counts.get(stage, 0) + k
        for (dimension, value), funnel in funnels.items():
            key = AggregateKey("post-purchase-nps", dimension, value, day)
            aggregates.add(f"bench-f-{dimension}-{value}-{day}", key, funnel, AFTER_RUNS, AFTER_RUNS)
    _seed_answers(stack, stores)


def _seed_answers(stack: Any, stores: dict[str, str]) -> None:
    """20 answers per store in the reported week, every other with a comment, as the importer writes them."""
    from npsloop.adapters.dynamodb_import import DynamoImportWriter
    from npsloop.domain.responses import Response
    from npsloop.domain.surveys import SurveyType
    from npsloop.importing.records import ImportedResponse

    writer = DynamoImportWriter(stack.outputs["TableName"], client=stack.client("dynamodb"), sleep=lambda _: None)
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    records = []
    for s, (store, region) in enumerate(stores.items()):
        for i in range(20):
            n = s * 100 + i
            created = at + timedelta(hours=5 * i, minutes=s)
            comment = f"Kolejka przy kasie {i}, pani Anna Nowak pomogła. Tel. 601 234 {n:03d}" if i % 2 else None
            answer = Response(
                invitation_id=f"bench-{n:05d}", program_id="post-purchase-nps", program_version=1,
                survey_type=SurveyType.NPS, customer_id=f"C-{n}", locale="pl",
                context={"store": store, "region": region, "channel": "web"}, score=(i * 7) % 11,
                comment=comment, version=1, created_at=created, updated_at=created,
            )  # fmt: skip
            records.append(ImportedResponse(answer, source="bench", source_id=str(n)))
    for first in range(0, len(records), 25):
        writer.put(records[first : first + 25])
    stack.drain()  # the stream's records are scored before the runs


def report() -> None:
    from npsloop.reports import charts, email
    from npsloop_local import function_logs
    from npsloop_local.metering import _capacity
    from npsloop_local.stack import LocalStack

    prices = tomllib.loads(PRICES.read_text(encoding="utf-8"))
    print("\n7. Scheduled reports (local stack: 20 stores in 4 regions; the weekly and monthly runs)")
    clock = _Clock(SUNDAY)
    by_function: Counter[str] = Counter()
    reads: Counter[str] = Counter()
    with (
        _routing() as stores,
        tempfile.TemporaryDirectory() as scratch,
        LocalStack(
            template_path=ROOT / "template.yaml",
            parameters={"LogLevel": "ERROR", "ReportSendRate": "100"},
            clock=clock,
            outbox_dir=Path(scratch) / "outbox",
            logs_dir=Path(scratch) / "logs",
        ) as stack,
    ):
        for handler in logging.getLogger("npsloop").handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sys.stdout)
        _seed(stack, stores)
        people = 0
        for store in stores:
            for i in range(STORE_MANAGERS):
                stack.add_person(f"s{people}", f"m{i}.{store.lower()}@example.com", [f"npsloop-store-{store}"])
                people += 1
        for region in REGIONS:
            for i in range(REGION_MANAGERS):
                stack.add_person(f"r{people}", f"r{i}.{region}@example.com", [f"npsloop-region-{region}"])
                people += 1

        def count(model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            function = getattr(function_logs._current, "function", None) or "outside"
            by_function[f"{function} {model.service_model.service_name}:{model.name}"] += 1
            if model.service_model.service_name == "dynamodb":
                reads[function] += _capacity(model.name, context.get("npsloop_meter_params", {}), parsed)[1]

        from npsloop_local.metering import AwsMeter

        meter = AwsMeter().install()
        meter._events.register("after-call", count, unique_id="npsloop-bench-reports")
        worker = stack.dispatcher.function("ReportWorkerFunction")
        worker_time = _Timer(worker, "call")
        draw = [_Timer(charts, "trend_chart"), _Timer(charts, "comparison_chart"), _Timer(charts, "funnel_chart")]
        render = _Timer(email, "render_report")
        try:
            clock.advance(AFTER_RUNS - SUNDAY)
            stack.drain()
        finally:
            meter._events.unregister("after-call", unique_id="npsloop-bench-reports")
            meter.uninstall()
            for timer in (worker_time, *draw, render):
                timer.restore()
        messages = stack.outbox_messages()
        sizes = [len(path.read_bytes()) for path in stack.outbox]

    sent = len(messages)
    drawn = sum(t.calls for t in draw)
    chart_seconds = sum(t.seconds for t in draw)
    render_only = render.seconds - chart_seconds
    worker_reads = reads["ReportWorkerFunction"]
    worker_calls = {k.split(" ", 1)[1]: v for k, v in by_function.items() if k.startswith("ReportWorkerFunction ")}
    planner_calls = {k.split(" ", 1)[1]: v for k, v in by_function.items() if k.startswith("ReportPlannerFunction ")}
    scopes = len(stores) + len(REGIONS)
    print(f"   {sent} reports sent ({people} people of the directory + routing.toml's personas), {scopes} scopes")
    print(
        f"   render per scope (its charts, drawn once per container): {chart_seconds / max(drawn, 1) * 1000:6.1f} ms "
        f"per chart, {drawn} charts drawn for {sent} emails"
    )
    per_recipient = render_only / max(render.calls, 1) * 1000
    print(f"   render per recipient (HTML, text and MIME, charts cached): {per_recipient:6.1f} ms")
    print(
        f"   worker, whole job in-process with moto (claim, reads, render, send): "
        f"{worker_time.seconds / max(sent, 1) * 1000:6.1f} ms per recipient"
    )
    dynamodb = {k: v / max(sent, 1) for k, v in sorted(worker_calls.items()) if k.startswith("dynamodb:")}
    print(
        f"   DynamoDB reads per recipient: {worker_reads / max(sent, 1):.2f} RRU, {sum(dynamodb.values()):.2f} "
        f"requests ({', '.join(f'{k} {v:.2f}' for k, v in dynamodb.items())})"
    )
    print(f"   planner calls per run: {dict(sorted(planner_calls.items()))}")
    without_cache = sent * chart_seconds / max(drawn, 1)
    print(
        f"   chart cache: {drawn} draws instead of about {sent} ({without_cache:.1f} s of drawing saved); "
        "per-container memory, no S3: two environments draw a scope at most twice"
    )

    # Cost per 1,000 recipients on AWS.
    def price(service: str, item: str) -> float:
        return float(prices[service][item]["usd"])

    rate = 4.0  # template.yaml ReportSendRate: each environment waits 1/rate between sends
    seconds = max(worker_time.seconds / max(sent, 1), 1 / rate)
    per_thousand = {
        "SES emails": price("ses", "emails_per_thousand"),
        "SES attachments (inline charts)": sum(sizes) / max(sent, 1) * 1000 / 1e9 * price("ses", "attachments_gb"),
        "Lambda requests": (1000 / 10 + 1) / 1e6 * price("lambda", "requests_per_million"),
        "Lambda duration (1 GB worker)": 1000 * seconds * 1.0 * price("lambda", "arm_gb_second"),
        "DynamoDB reads": 1000
        * worker_reads
        / max(sent, 1)
        / 1e6
        * price("dynamodb", "read_request_units_per_million"),
        "DynamoDB writes (claim, outcome)": 1000 * 2 / 1e6 * price("dynamodb", "write_request_units_per_million"),
        "SQS (send, receive, delete per 10)": 1000 * 3 / 10 / 1e6 * price("sqs", "requests_per_million"),
    }
    total = sum(per_thousand.values())
    print(f"   cost per 1,000 recipients: ${total:.4f} (emails {sum(sizes) / max(sent, 1) / 1024:.0f} KB on average)")
    for name, usd in per_thousand.items():
        print(f"      {name:<38} ${usd:.5f}")
    print("      (Lambda's SQS pollers also make idle ReceiveMessage calls between runs: a few cents a month)")


if __name__ == "__main__":
    report()
