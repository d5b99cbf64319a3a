"""`make bench`, cost at real traffic: the stream at a realistic rate, and the whole AWS cost model.

Part 1 feeds answers through the table's stream at the rate of ``INVITATIONS_PER_MONTH`` invitations
(``ANSWER_RATE`` answering, each with a comment), as a Poisson process on the injected clock, and the
invitations' own changes (claimed, sent, delivered, ``OPEN_RATE`` opened: the funnel's records), with
the template's batch sizes, batching windows and tumbling windows (``LocalStack(batching_windows=True)``):
a day is four levels of traffic (night, morning, afternoon, evening peak; averaging the monthly rate),
each simulated for ``SLICE_MINUTES`` and weighted by its six hours. It prints write units per answer.

Part 2 measures, on the local stack at the template's default log level, the AWS calls and DynamoDB
units per invitation, per delivery report and per answer, handler time per invocation (in-process
with moto: a proxy for Lambda duration, moto's own work included) and the bytes each function logs
per invocation. Part 3 prices it all with ``benchmarks/prices.toml``.
"""

from __future__ import annotations

import contextlib
import copy
import email
import json
import logging
import random
import re
import sys
import tempfile
import time
import tomllib
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PRICES = Path(__file__).with_name("prices.toml")
INVITATIONS_PER_MONTH = 1_000_000
ANSWER_RATE = 0.20  # answers per invitation, each with a comment
MONTH_SECONDS = 30 * 86_400
DAY_LEVELS = (0.15, 1.0, 1.15, 1.7)  # night, morning, afternoon, evening: six hours each, mean 1.0
SLICE_MINUTES = 30
PLATFORM_LOG_BYTES = 380  # START, END and REPORT lines (with the XRAY line) per invocation: an estimate
LINK = re.compile(r"https?://[^\s]+/r/([A-Za-z0-9._-]+)\?score=(\d+)")
STREAM_CONSUMERS = ("ScoreFunction", "AlertFunction", "ExportFunction")
STORES = [f"S-{n:02d}" for n in range(20)]
OPEN_RATE = 0.40  # invitations whose open SES reports (the funnel's "opened")


@dataclass
class Usage:
    """What a stretch of work cost: AWS calls, DynamoDB units, invocations, handler time, log bytes."""

    calls: Counter[str] = field(default_factory=Counter)
    wru: float = 0.0
    rru: float = 0.0
    invocations: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)
    records: Counter[str] = field(default_factory=Counter)  # stream records handed to each consumer
    log_bytes: Counter[str] = field(default_factory=Counter)
    function_wru: Counter[str] = field(default_factory=Counter)  # write units by the function that spent them


class Probe:
    """Counts invocations, handler time and log bytes per function, and AWS calls and units."""

    def __init__(self, stack: Any, logs_dir: Path) -> None:
        from npsloop_local.metering import AwsMeter

        self._stack = stack
        self._logs = logs_dir
        self.meter = AwsMeter().install()
        self.usage = Usage()
        self._log_sizes: dict[str, int] = {}
        for name, function in stack.dispatcher.functions.items():
            function.call = self._timed(name, function.call)
        self.meter._events.register("after-call", self._by_function, unique_id="npsloop-cost-by-function")

    def _by_function(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        from npsloop_local import function_logs
        from npsloop_local.metering import _capacity

        if model.service_model.service_name != "dynamodb":
            return
        writes, _ = _capacity(model.name, context.get("npsloop_meter_params", {}), parsed)
        self.usage.function_wru[getattr(function_logs._current, "function", None) or "outside"] += writes

    def _timed(self, name: str, call: Any) -> Any:
        def timed(event: Any) -> Any:
            began = time.perf_counter()
            try:
                return call(event)
            finally:
                self.usage.seconds[name] += time.perf_counter() - began
                self.usage.invocations[name] += 1
                if isinstance(event, dict) and isinstance(event.get("Records"), list):
                    self.usage.records[name] += len(event["Records"])

        return timed

    def reset(self) -> None:
        self.meter.reset()
        self.usage = Usage()
        self._log_sizes = self._sizes()

    def take(self) -> Usage:
        calls, wru, rru = self.meter.snapshot()
        usage = self.usage
        usage.calls, usage.wru, usage.rru = calls, wru, rru
        for name, size in self._sizes().items():
            usage.log_bytes[name] = size - self._log_sizes.get(name, 0)
        self.reset()
        return usage

    def _sizes(self) -> dict[str, int]:
        sys.stdout.flush()
        return {path.stem: path.stat().st_size for path in self._logs.glob("*.log")}

    def close(self) -> None:
        self.meter._events.unregister("after-call", unique_id="npsloop-cost-by-function")
        self.meter.uninstall()


@contextlib.contextmanager
def _stack(clock: Any, *, windows: bool) -> Iterator[tuple[Any, Probe]]:
    from npsloop_local.stack import LocalStack

    with (
        tempfile.TemporaryDirectory() as scratch,
        LocalStack(
            template_path=ROOT / "template.yaml",
            clock=clock,
            outbox_dir=Path(scratch) / "outbox",
            logs_dir=Path(scratch) / "logs",
            batching_windows=windows,
        ) as stack,
    ):
        # powertools' handler keeps the stdout it was created with: an earlier stack's log router,
        # whose directory is gone. Point it at this stack's router.
        for handler in logging.getLogger("npsloop").handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sys.stdout)
        probe = Probe(stack, Path(scratch) / "logs")
        try:
            yield stack, probe
        finally:
            probe.close()


# ----- 1. the stream at a realistic rate ------------------------------------------------------------


def _response_item(n: int, at: datetime, rng: random.Random) -> dict[str, Any]:
    """A response as the respond function stores it: three programs, 20 stores, a comment each."""
    program, survey, scale = rng.choices(
        [
            ("post-purchase-nps", "nps", range(11)),
            ("support-ces", "ces", range(1, 8)),
            ("store-visit-csat", "csat", range(1, 6)),
        ],
        weights=[0.6, 0.2, 0.2],
    )[0]
    store = rng.choice(STORES)
    stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "pk": f"INV#cost{n:028d}",
        "sk": "RESPONSE",
        "entity": "response",
        "invitation_id": f"cost{n:028d}",
        "program_id": program,
        "program_version": 1,
        "survey_type": survey,
        "customer_id": f"C-{n}",
        "locale": rng.choice(["pl", "en"]),
        "context": {"store": store, "region": f"R-{STORES.index(store) % 4}", "channel": rng.choice(["web", "store"])},
        "vip": False,
        "score": rng.choices(list(scale), weights=[(i + 1) ** 2 for i in range(len(scale))])[0],  # mostly happy
        "comment": "Szybko i miło." if n % 2 else "Quick and friendly.",
        "version": 1,
        "created_at": stamp,
        "updated_at": stamp,
        "invited_at": stamp,  # its invitation's day (the funnel's cohort): the same day here
    }


def _invitation_writes(n: int, at: datetime, rng: random.Random) -> list[tuple[float, dict[str, Any]]]:
    """An invitation's writes as the invite and delivery functions make them: (seconds after ``at``, item).

    Claimed (pending), marked sent at once, delivered a few seconds later, and opened by ``OPEN_RATE``
    of the people within the half hour. The item is whole each time: the stream sees old and new images.
    """
    program = rng.choices(["post-purchase-nps", "support-ces", "store-visit-csat"], weights=[0.6, 0.2, 0.2])[0]
    store = rng.choice(STORES)
    stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    base = {
        "pk": f"INV#costinv{n:025d}",
        "sk": "INVITATION",
        "entity": "invitation",
        "invitation_id": f"costinv{n:025d}",
        "program_id": program,
        "customer_id": f"C-{n}",
        "context": {"store": store, "region": f"R-{STORES.index(store) % 4}", "channel": rng.choice(["web", "store"])},
        "created_at": stamp,
    }
    sent = base | {"status": "sent", "sent_at": stamp, "message_id": f"0102-{n}"}
    delivered = sent | {"delivery_status": "delivered", "delivered_at": stamp}
    writes = [(0.0, base | {"status": "pending"}), (0.5, sent), (rng.uniform(2, 30), delivered)]
    if rng.random() < OPEN_RATE:
        writes.append((rng.uniform(60, SLICE_MINUTES * 60), delivered | {"opened_at": stamp}))
    return writes


@dataclass
class StreamFigures:
    answers: int
    usage: Usage


def realistic_stream(level: float, seed: int) -> StreamFigures:
    """Answers at ``level`` x the mean rate for SLICE_MINUTES, then the stream drained by the windows."""
    from boto3.dynamodb.types import TypeSerializer

    from npsloop.clock import ManualClock
    from npsloop_local.demo import PAST_WINDOWS

    rng = random.Random(seed)
    rate = INVITATIONS_PER_MONTH * ANSWER_RATE / MONTH_SECONDS * level  # answers per second
    start = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
    clock = ManualClock(start)
    serializer = TypeSerializer()
    with _stack(clock, windows=True) as (stack, probe):
        client = stack.client("dynamodb")
        table = stack.outputs["TableName"]
        probe.reset()
        arrivals, t = [], 0.0
        while True:
            t += rng.expovariate(rate)
            if t > SLICE_MINUTES * 60:
                break
            arrivals.append(t)
        invitation_writes, t, invited = [], 0.0, 0
        while True:
            t += rng.expovariate(rate / ANSWER_RATE)  # invitations: the answers' rate over the answer rate
            if t > SLICE_MINUTES * 60:
                break
            created = start + timedelta(seconds=t)
            invitation_writes += [(t + dt, item) for dt, item in _invitation_writes(invited, created, rng)]
            invited += 1
        invitation_writes.sort(key=lambda write: write[0])
        step, now, n, w = 5.0, 0.0, 0, 0
        end = SLICE_MINUTES * 60 + PAST_WINDOWS.total_seconds()  # the answers' windows end
        while now < end:
            now += step
            clock.set(start + timedelta(seconds=now))
            while w < len(invitation_writes) and invitation_writes[w][0] <= now:
                item = invitation_writes[w][1]
                client.put_item(TableName=table, Item={k: serializer.serialize(v) for k, v in item.items()})
                w += 1
            while n < len(arrivals) and arrivals[n] <= now:
                item = _response_item(n, clock.now(), rng)
                client.put_item(TableName=table, Item={k: serializer.serialize(v) for k, v in item.items()})
                n += 1
            stack.drain()
        clock.set(clock.now() + PAST_WINDOWS)  # the windows of the tail's last records end too
        stack.drain()
        usage = probe.take()
        # The answers' and invitations' own writes: respond's, invite's and delivery's, in part 2.
        usage.wru -= usage.function_wru.pop("outside", 0.0)
        usage.calls["dynamodb:PutItem"] -= n + w
    return StreamFigures(answers=n, usage=usage)


# ----- 2. measured units per invitation, delivery report and answer ----------------------------------


@dataclass
class UnitFigures:
    invitations: int
    answers: int
    invite: Usage
    delivery: Usage
    respond: Usage
    consumers: Usage  # the stream consumers, for the invitations' and answers' records


def measured_units(invitations: int = 40) -> UnitFigures:
    from npsloop.clock import ManualClock

    answers = max(1, int(invitations * ANSWER_RATE))
    template = json.loads((ROOT / "events" / "order-completed.json").read_text(encoding="utf-8"))
    clock = ManualClock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    with _stack(clock, windows=False) as (stack, probe):
        stack.invoke("InviteFunction", copy.deepcopy(template))  # warm: the secret fetched, clients built
        stack.drain()
        probe.reset()
        for n in range(invitations):
            payload = copy.deepcopy(template)
            payload["detail"]["order_id"] = f"ORD-COST-{n}"
            payload["detail"]["customer"]["id"] = f"C-COST-{n}"
            stack.invoke("InviteFunction", payload)
        invite = probe.take()
        stack.drain()  # the delivery reports (SES -> SNS -> delivery) and the stream consumers
        both = probe.take()
        delivery, consumers_inv = _split(both, {"DeliveryFunction"})
        paths = list(stack.outbox)[1 : answers + 1]
        links = []
        for path in paths:
            text = email.message_from_bytes(path.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
            links.append(next(m.group(0) for m in LINK.finditer(text) if m.group(2) == "3"))  # detractors: alerts
        for url in links:
            with urllib.request.urlopen(url) as reply:
                reply.read()
            body = urllib.parse.urlencode({"score": "3", "comment": "Długo czekałem na paczkę."}).encode()
            with urllib.request.urlopen(urllib.request.Request(url.split("?")[0], data=body)) as reply:
                reply.read()
        respond = probe.take()
        stack.drain()
        consumers = probe.take()
    _add(consumers, consumers_inv)
    return UnitFigures(invitations, len(links), invite, delivery, respond, consumers)


def _split(usage: Usage, names: set[str]) -> tuple[Usage, Usage]:
    """Invocations, time and logs of ``names`` apart; calls and units stay with the first part."""
    first, second = Usage(), Usage()
    first.calls, first.wru, first.rru = usage.calls, usage.wru, usage.rru
    for counter in ("invocations", "seconds", "records", "log_bytes"):
        for name, value in getattr(usage, counter).items():
            getattr(first if name in names else second, counter)[name] += value
    return first, second


def _add(into: Usage, other: Usage) -> None:
    for counter in ("calls", "invocations", "seconds", "records", "log_bytes", "function_wru"):
        getattr(into, counter).update(getattr(other, counter))


# ----- 3. the cost model -----------------------------------------------------------------------------


def _price(prices: dict, service: str, item: str) -> float:
    return float(prices[service][item]["usd"])


def _memory_gb() -> dict[str, float]:
    from npsloop_local.template import load_yaml

    template = load_yaml(ROOT / "template.yaml")
    default = int(template.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    sizes = {}
    for name, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            sizes[name] = int((resource.get("Properties") or {}).get("MemorySize", default)) / 1024
    return sizes


def main() -> None:
    prices = tomllib.loads(PRICES.read_text(encoding="utf-8"))
    answers_per_month = INVITATIONS_PER_MONTH * ANSWER_RATE
    monthly = f"{INVITATIONS_PER_MONTH:,} invitations a month, {ANSWER_RATE:.0%} answering with a comment"
    print(f"\n6. Cost at real traffic ({monthly})")
    print(f"   a) the stream: Poisson answers, {SLICE_MINUTES} min at each of the day's levels {DAY_LEVELS} x the mean")
    slices = [realistic_stream(level, seed=7 + i) for i, level in enumerate(DAY_LEVELS)]
    day = Usage()
    day_answers = 0.0
    for level, figures in zip(DAY_LEVELS, slices, strict=True):
        u = figures.usage
        score_wru = _function_wru(u, "ScoreFunction")
        a, batches = max(1, figures.answers), max(1, u.invocations["ScoreFunction"])
        print(
            f"      {level:4.2f}x mean ({figures.answers:4d} answers): score {batches:3d} batches, "
            f"{u.records['ScoreFunction'] / batches:5.1f} answers/batch, {score_wru / a:4.2f} WRU/answer; "
            f"all consumers {u.wru / a:4.2f} WRU, {u.rru / a:4.2f} RRU, "
            f"{sum(u.calls.values()) / a:5.2f} calls per answer"
        )
        weight = 6 * 60 / SLICE_MINUTES  # each level lasts six hours of the day
        day_answers += figures.answers * weight
        scaled = Usage()
        _add(scaled, u)
        for counter in ("calls", "invocations", "seconds", "records", "log_bytes", "function_wru"):
            for k in getattr(scaled, counter):
                getattr(scaled, counter)[k] *= weight
        scaled.wru, scaled.rru = u.wru * weight, u.rru * weight
        _add(day, scaled)
        day.wru += scaled.wru
        day.rru += scaled.rru
    print(
        f"      over the day: score {day.function_wru['ScoreFunction'] / day_answers:.2f} WRU per answer (aim <= 2), "
        f"stream consumers {day.wru / day_answers:.2f} WRU and {day.rru / day_answers:.2f} RRU per answer"
    )

    print("   b) measured per unit (local stack, default log level; time is in-process with moto, a proxy)")
    units = measured_units()
    n_inv, n_ans = units.invitations, units.answers
    _print_unit("per invitation (invite)", units.invite, n_inv)
    _print_unit("per delivery report", units.delivery, max(1, units.delivery.invocations["DeliveryFunction"]))
    print(f"      delivery reports per invitation: {units.delivery.invocations['DeliveryFunction'] / n_inv:.2f}")
    _print_unit("per answer (respond: GET page + POST)", units.respond, n_ans)
    records = sum(units.consumers.records.values())
    _print_unit("per stream record (score, alert, export)", units.consumers, max(1, records))
    export_records_per_invitation = (units.consumers.records["ExportFunction"] - n_ans) / n_inv

    # Monthly volumes.
    month_scale = answers_per_month / day_answers  # the simulated day, scaled to a month of answers
    invocations: dict[str, float] = {
        "InviteFunction": INVITATIONS_PER_MONTH * units.invite.invocations["InviteFunction"] / n_inv,
        "DeliveryFunction": INVITATIONS_PER_MONTH * units.delivery.invocations["DeliveryFunction"] / n_inv,
        "RespondFunction": answers_per_month * units.respond.invocations["RespondFunction"] / n_ans,
        "ScoreFunction": day.invocations["ScoreFunction"] * month_scale,
        "AlertFunction": day.invocations["AlertFunction"] * month_scale,
        "AnalyseFunction": day.invocations["AnalyseFunction"] * month_scale,
        # Invitation changes reach export about every second: its 60 s window sets the invocations.
        "ExportFunction": MONTH_SECONDS / 60,
        "CasesFunction": MONTH_SECONDS / 900,
        "InviteSweepFunction": MONTH_SECONDS / 900,
    }
    # Time and log bytes per invocation from where the invocation count comes from: the stream
    # consumers' from the realistic stream (its batches, mostly happy answers), the rest from part b.
    sources = (day, units.invite, units.delivery, units.respond, units.consumers)
    seconds_per_call = {}
    for name in invocations:
        for usage in sources:
            if usage.invocations[name]:
                seconds_per_call[name] = usage.seconds[name] / usage.invocations[name]
                break
        seconds_per_call.setdefault(name, 0.05)
    log_per_call = {}
    for name in invocations:
        for usage in sources:
            if usage.invocations[name]:
                log_per_call[name] = usage.log_bytes[name] / usage.invocations[name] + PLATFORM_LOG_BYTES
                break
        log_per_call.setdefault(name, PLATFORM_LOG_BYTES)
    memory = _memory_gb()
    requests = sum(invocations.values())
    gb_seconds = sum(invocations[n] * seconds_per_call[n] * memory.get(n, 0.5) for n in invocations)
    log_gb = sum(invocations[n] * log_per_call[n] for n in invocations) / 1e9

    wru = (
        INVITATIONS_PER_MONTH * (units.invite.wru + units.delivery.wru) / n_inv
        + answers_per_month * units.respond.wru / n_ans
        + day.wru * month_scale
    )
    rru = (
        INVITATIONS_PER_MONTH * (units.invite.rru + units.delivery.rru) / n_inv
        + answers_per_month * units.respond.rru / n_ans
        + day.rru * month_scale
    )
    calls_answer = Counter()
    for k, v in units.consumers.calls.items():
        calls_answer[k] = v / n_ans
    bus_events = INVITATIONS_PER_MONTH + answers_per_month * calls_answer["events:PutEvents"] * 0.2  # ~1 in 5 detracts
    sns_publishes = invocations["DeliveryFunction"] + answers_per_month * calls_answer["sns:Publish"] * 0.2
    s3_puts = day.calls["s3:PutObject"] * month_scale + invocations["ExportFunction"]
    row_bytes = 600  # a gzip JSON line of an invitation or a response change (order of magnitude)
    s3_gb = (INVITATIONS_PER_MONTH * export_records_per_invitation + answers_per_month) * row_bytes / 1e9 / 3
    http_requests = answers_per_month * 2
    # Below one request a second per function, Active tracing records nearly every invocation; with
    # PassThrough only requests that arrive with a sampled trace header (none of ours do).
    tracing = _tracing_default()
    traced = sum(invocations.values()) if tracing == "Active" else 0.0
    secrets_calls = 4 * (MONTH_SECONDS / 300)  # four functions read a secret, cached five minutes each
    table_gb = (INVITATIONS_PER_MONTH * 1.5 + answers_per_month * 0.8) / 1e6  # KB per item, order of magnitude

    lines = {
        "Lambda requests": requests / 1e6 * _price(prices, "lambda", "requests_per_million"),
        "Lambda duration (GB-s)": gb_seconds * _price(prices, "lambda", "arm_gb_second"),
        "DynamoDB writes (WRU)": wru / 1e6 * _price(prices, "dynamodb", "write_request_units_per_million"),
        "DynamoDB reads (RRU)": rru / 1e6 * _price(prices, "dynamodb", "read_request_units_per_million"),
        "DynamoDB storage (one month's items)": table_gb * _price(prices, "dynamodb", "storage_gb_month"),
        "EventBridge events": bus_events / 1e6 * _price(prices, "eventbridge", "custom_events_per_million"),
        "SNS publishes": sns_publishes / 1e6 * _price(prices, "sns", "publishes_per_million"),
        "S3 PUTs and storage": s3_puts / 1e3 * _price(prices, "s3", "put_per_thousand")
        + s3_gb * _price(prices, "s3", "storage_gb_month"),
        "HTTP API requests": http_requests / 1e6 * _price(prices, "http_api", "requests_per_million"),
        "X-Ray traces": traced / 1e6 * _price(prices, "xray", "traces_recorded_per_million"),
        "CloudWatch Logs ingested": log_gb * _price(prices, "cloudwatch", "logs_ingested_gb"),
        "CloudWatch Logs stored (30 days)": log_gb * _price(prices, "cloudwatch", "logs_stored_gb_month"),
        "Secrets Manager calls": secrets_calls / 1e4 * _price(prices, "secrets_manager", "calls_per_10k"),
        "KMS requests (encrypted topics)": 2 * (MONTH_SECONDS / 300) / 1e4 * _price(prices, "kms", "requests_per_10k"),
        "SQS (dead letters only)": 0.0,
    }
    fixed = {
        "custom metrics (31 names, EMF)": 31 * _price(prices, "cloudwatch", "custom_metric_month"),
        "alarms (31)": 31 * _price(prices, "cloudwatch", "alarm_month"),
        "dashboard": _price(prices, "cloudwatch", "dashboard_month"),
        "KMS key": _price(prices, "kms", "key_month"),
        "secrets (2)": 2 * _price(prices, "secrets_manager", "secret_month"),
    }
    total = sum(lines.values())
    print(f"   c) per month at {INVITATIONS_PER_MONTH:,} invitations (list prices, {prices['region']}, {PRICES.name})")
    print(
        f"      Lambda {requests:,.0f} requests, {gb_seconds:,.0f} GB-s; DynamoDB {wru:,.0f} WRU, {rru:,.0f} RRU; "
        f"logs {log_gb:.2f} GB; X-Ray traces {traced:,.0f} (Tracing {tracing}; Active would add "
        f"${sum(invocations.values()) / 1e6 * _price(prices, 'xray', 'traces_recorded_per_million'):.2f})"
    )
    for name, usd in sorted(lines.items(), key=lambda kv: -kv[1]):
        print(f"      {name:<40} ${usd:8.2f}")
    print(f"      {'variable, non-SES, per 1,000,000 invitations':<40} ${total:8.2f}   (aim <= $5.00)")
    if total > 5:
        biggest = max(lines, key=lines.get)
        print(f"      missed by ${total - 5:.2f}; the biggest line is {biggest} (${lines[biggest]:.2f})")
    fixed_lines = ", ".join(f"{k} ${v:.2f}" for k, v in fixed.items())
    print(f"      fixed per month, whatever the traffic: ${sum(fixed.values()):.2f} ({fixed_lines})")
    ses = INVITATIONS_PER_MONTH / 1e3 * _price(prices, "ses", "emails_per_thousand")
    print(f"      for scale: SES sends ${ses:.2f}")
    unconfirmed = sorted(
        f"{s}.{k}"
        for s, items in prices.items()
        if isinstance(items, dict)
        for k, v in items.items()
        if not v.get("confirmed")
    )
    print(f"      prices not confirmed on AWS's page here ({len(unconfirmed)}): see prices.toml")


def _tracing_default() -> str:
    from npsloop_local.template import load_yaml

    tracing = load_yaml(ROOT / "template.yaml")["Globals"]["Function"].get("Tracing", "PassThrough")
    if isinstance(tracing, dict) and "Ref" in tracing:
        return str(load_yaml(ROOT / "template.yaml")["Parameters"][tracing["Ref"]]["Default"])
    return str(tracing)


def _function_wru(usage: Usage, function: str) -> float:
    return usage.function_wru[function]


def _print_unit(label: str, usage: Usage, n: int) -> None:
    calls = sum(usage.calls.values())
    detail = ", ".join(f"{name} {count / n:.2f}" for name, count in sorted(usage.calls.items()) if count)
    invoked = ", ".join(
        f"{name.removesuffix('Function')} {usage.invocations[name] / n:.2f} x "
        f"{usage.seconds[name] / usage.invocations[name] * 1000:.0f} ms, "
        f"{usage.log_bytes[name] / usage.invocations[name]:.0f} B logged"
        for name in sorted(usage.invocations)
        if usage.invocations[name]
    )
    print(f"      {label:<42} {calls / n:5.2f} calls {usage.wru / n:5.2f} WRU {usage.rru / n:5.2f} RRU")
    print(f"         {detail}")
    print(f"         invocations: {invoked}")


if __name__ == "__main__":
    main()
