"""`make demo`: ninety days of business events through the whole loop on the local stack.

Customers get survey emails (in .local/outbox, openable in a mail client); some addresses bounce
or complain (SES's mailbox simulator, emulated locally); simulated respondents click a score link
over real HTTP, confirm it on the page and sometimes comment, in Polish or English; link scanners
prefetch every link and commit nothing. The stream consumers score, alert and export every answer;
front-line staff work their follow-up cases through the case API, and the ones they leave alone
escalate. A summary - read back through the score API, the table, S3 and DuckDB - is printed last.
"""

from __future__ import annotations

import argparse
import email
import json
import logging
import random
import re
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.policy import compat32
from pathlib import Path
from typing import Any

import boto3

from npsloop.clock import ManualClock
from npsloop.domain import statistics
from npsloop.domain.programs import load_programs
from npsloop.domain.surveys import SurveyType
from npsloop_local import athena, population
from npsloop_local.stack import LocalStack
from npsloop_local.template import Template

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"(https?://[^\s]+/r/[A-Za-z0-9._-]+)\?score=(\d+)")
UNSUBSCRIBE = re.compile(r"<(https?://[^>]+/u/[A-Za-z0-9._-]+)>")


@dataclass
class Stats:
    events_put: int = 0
    failed_entries: int = 0
    responses_posted: int = 0
    answers_changed: int = 0
    scanner_gets: int = 0
    rejected_posts: int = 0
    unsubscribes: int = 0
    cases_resolved: int = 0
    cases_unreachable: int = 0


class Progress:
    def __init__(self, stream: Any = sys.stderr, enabled: bool = True) -> None:
        self._enabled = enabled
        self._stream = stream
        self._tty = stream.isatty()
        self._last = 0.0

    def update(self, label: str, done: int, total: int, force: bool = False) -> None:
        now = time.monotonic()
        if not self._enabled:
            return
        if not force and now - self._last < (0.1 if self._tty else 5):
            return
        self._last = now
        width = 30
        filled = int(width * done / max(total, 1))
        line = f"{label:<22} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        self._stream.write(("\r" + line) if self._tty else (line + "\n"))
        if self._tty and force:
            self._stream.write("\n")
        self._stream.flush()


def _http(url: str, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - loopback only
            return reply.status, reply.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


@dataclass(frozen=True)
class Invitation:
    recipient: str
    links: dict[int, str]
    unsubscribe: str | None
    survey: SurveyType
    invitation_id: str | None = None


def read_email(path: Path) -> Invitation:
    # compat32 parsing is several times faster than policy.default, and these are our own messages.
    message = email.message_from_bytes(path.read_bytes(), policy=compat32)
    text = next(
        part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )
    links = {int(s): f"{base}?score={s}" for base, s in LINK.findall(text)}
    survey = SurveyType.NPS if 0 in links else SurveyType.CES if 7 in links else SurveyType.CSAT
    header = UNSUBSCRIBE.search(str(message["List-Unsubscribe"] or ""))
    invitation_id = message["X-Npsloop-Invitation"]
    return Invitation(
        str(message["To"]), links, header.group(1) if header else None, survey, str(invitation_id or "") or None
    )


class Respondents:
    """People (and a few link-scanning bots) acting on the emails they received."""

    def __init__(self, pop: population.Population, stats: Stats, clock: ManualClock, seed: int = 7) -> None:
        self._people = pop.by_email()
        self._pop = pop
        self._stores = pop.store_of()
        self._clock = clock
        self._stats = stats
        self._rng = random.Random(seed)

    def act(self, invitation: Invitation) -> None:
        rng = random.Random(self._rng.random())
        person = self._people.get(invitation.recipient.lower())
        if invitation.recipient.endswith("@simulator.amazonses.com"):
            return  # bounced, or reported as spam: nobody reads it
        if rng.random() < 0.05:  # a corporate mail scanner opens every link first
            for url in invitation.links.values():
                status, _ = _http(url)
                self._stats.scanner_gets += 1
                assert status == 200, status
        if person is None:
            return
        if invitation.unsubscribe and rng.random() < 0.015:
            status, _ = _http(invitation.unsubscribe, b"List-Unsubscribe=One-Click")
            self._stats.unsubscribes += status == 200
            return
        if rng.random() > 0.35:  # about a third answer, a good rate for a one-click email survey
            return
        store = self._stores.get(invitation.invitation_id or "", person.home_store)
        quality = self._pop.quality(store, self._clock.now())
        chosen, comment = population.answer_for(rng, invitation.survey.value, quality, person.locale)
        self._respond(invitation, chosen, comment)
        if rng.random() < 0.04:  # changes their mind before the link expires
            again, comment = population.answer_for(rng, invitation.survey.value, quality, person.locale)
            self._respond(invitation, again, comment)
            self._stats.answers_changed += 1
        if rng.random() < 0.01:  # a mistyped form
            status, _ = _http(invitation.links[chosen].split("?")[0], b"score=99")
            self._stats.rejected_posts += status == 422

    def _respond(self, invitation: Invitation, chosen: int, comment: str | None) -> None:
        url = invitation.links[chosen]
        status, page = _http(url)
        if status != 200 or f'value="{chosen}" checked' not in page:
            raise RuntimeError(f"confirmation page did not preselect {chosen} (HTTP {status})")
        form = {"score": str(chosen), "comment": comment or ""}
        status, page = _http(url.split("?")[0], urllib.parse.urlencode(form).encode())
        if status != 200:
            raise RuntimeError(f"POST answer failed with HTTP {status}")
        self._stats.responses_posted += 1


class Staff:
    """Front-line staff working their follow-up cases through the case API, as people do: most
    call back and resolve, some cannot reach the customer, and some cases are left to escalate."""

    ROOT_CAUSES = ("product_defect", "delivery", "staff_behaviour", "waiting_time", "price", "other")

    def __init__(self, api: ApiClient, stats: Stats, seed: int = 11) -> None:
        self._api = api
        self._stats = stats
        self._seed = seed
        self._fate: dict[str, str] = {}

    def _decide(self, case_id: str) -> str:
        if case_id not in self._fate:
            roll = random.Random(f"{self._seed}:{case_id}").random()
            self._fate[case_id] = "resolve" if roll < 0.6 else "unreachable" if roll < 0.75 else "ignore"
        return self._fate[case_id]

    def work(self) -> None:
        for status in ("open", "in_progress"):
            for listed in self._api.cases(status):
                fate = self._decide(listed["case_id"])
                if fate != "ignore":
                    self._follow_up(listed, fate)

    def _follow_up(self, case: dict[str, Any] | None, fate: str) -> None:
        if case is not None and case["status"] == "open":
            case = self._api.update(case, status="in_progress", note="Calling the customer back.")
        if case is None:
            return
        if fate == "unreachable" and not case.get("retry_count"):
            self._api.update(case, status="unreachable", note="No answer; voicemail left.")
            self._stats.cases_unreachable += 1
            return
        case = self._api.update(case, status="contacted", note="Spoke to the customer and apologised.")
        if case is None:
            return
        cause = self.ROOT_CAUSES[sum(map(ord, case["case_id"])) % len(self.ROOT_CAUSES)]
        if self._api.update(case, status="resolved", root_cause=cause, note="Resolved on the call.") is not None:
            self._stats.cases_resolved += 1


class ApiClient:
    """The authorised JSON API over HTTP, with a local dev token (as an analyst or a team lead would)."""

    def __init__(self, base_url: str, token: str) -> None:
        self._base = base_url
        self._token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self._base + path, data=data, method=method)  # noqa: S310
        request.add_header("Authorization", f"Bearer {self._token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - loopback only
                return reply.status, json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def scores(self, program: str, **query: str) -> dict[str, Any]:
        status, body = self.call("GET", f"/api/programs/{program}/scores?{urllib.parse.urlencode(query)}")
        if status != 200:
            raise RuntimeError(f"score API answered {status}: {body}")
        return body

    def cases(self, status: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        query = {"status": status, "limit": "100"}
        while True:
            code, body = self.call("GET", f"/api/cases?{urllib.parse.urlencode(query)}")
            if code != 200:
                raise RuntimeError(f"case API answered {code}: {body}")
            found.extend(body.get("cases", []))
            if not body.get("next"):
                return found
            query["next"] = body["next"]

    def update(self, case: dict[str, Any], **change: str) -> dict[str, Any] | None:
        body = {**change, "expected_version": case.get("version")}
        status, reply = self.call("PATCH", f"/api/cases/{case['case_id']}", body)
        return reply if status == 200 else None


@dataclass
class Outcome:
    stats: Stats
    summary: str


def simulate(customers: int, days: int, workers: int, outbox: Path, quiet: bool = False) -> Stats:
    return _run(customers, days, workers, outbox, quiet).stats


def _run(customers: int, days: int, workers: int, outbox: Path, quiet: bool) -> Outcome:
    started = time.monotonic()
    start = datetime(2026, 8, 24, 8, 0, tzinfo=UTC)  # a Monday; ninety days end on 2026-11-21
    clock = ManualClock(start)
    pop = population.build(customers, days, start)
    stats = Stats()
    progress = Progress(enabled=not quiet)
    shutil.rmtree(outbox, ignore_errors=True)
    if not quiet:
        print(
            f"npsloop demo: {customers} customers, {len(population.STORES)} stores, "
            f"{len(pop.events)} business events over {days} days",
            flush=True,
        )

    with LocalStack(
        template_path=ROOT / "template.yaml",
        parameters={"Stage": "demo", "LogLevel": "ERROR"},
        clock=clock,
        outbox_dir=outbox,
        logs_dir=outbox.parent / "logs",
        batching_windows=True,  # the stream consumers wait out their batching windows, as in Lambda
    ) as stack:
        bus = stack.outputs["EventBusName"]
        respondents = Respondents(pop, stats, clock)
        api = ApiClient(
            stack.base_url,
            stack.dev_token("demo-cx-lead", email="cx-lead@example.com", groups=["npsloop-cx-lead"]),
        )
        staff = Staff(api, stats)
        seen: set[Path] = set()
        by_day: dict[int, list[population.PlannedEvent]] = defaultdict(list)
        for planned in pop.events:
            by_day[(planned.at - start).days].append(planned)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for day in range(days):
                for batch in _batches(by_day.get(day, [])):
                    # Upstream systems publish in batches (PutEvents takes ten entries) as events happen.
                    clock.set(max(clock.now(), batch[-1].at))
                    result = stack.put_events([planned.entry(bus) for planned in batch])
                    stats.events_put += len(batch)
                    stats.failed_entries += result["FailedEntryCount"]
                    stack.drain()  # Lambda picks an async event up within milliseconds, before time moves on
                clock.set(max(clock.now(), start + timedelta(days=day, hours=12)))
                fresh = [p for p in stack.outbox if p not in seen]
                seen.update(fresh)
                list(pool.map(lambda path: respondents.act(read_email(path)), fresh))
                stack.drain()  # alerts and cases run on the stream at once
                clock.set(max(clock.now(), start + timedelta(days=day, hours=12, minutes=2)))
                stack.drain()  # scoring and the export, once their batching windows have passed
                clock.set(max(clock.now(), start + timedelta(days=day, hours=16)))
                stack.drain()  # the case sweep (scheduled) reopens unreachable cases due a retry
                staff.work()
                clock.set(max(clock.now(), start + timedelta(days=day, hours=23)))
                stack.drain()  # and escalates what is overdue
                progress.update(f"day {day + 1}/{days}", stats.events_put, len(pop.events), force=day == days - 1)
        clock.set(clock.now() + timedelta(minutes=2))
        stack.drain()  # what the last sweep changed reaches the export before the summary reads it
        summary = summarise(stack, pop, stats, outbox, api, clock, time.monotonic() - started)
    return Outcome(stats, summary)


def _batches(events: list[population.PlannedEvent], size: int = 10) -> list[list[population.PlannedEvent]]:
    """Consecutive events, at most ``size`` per batch and at most 15 minutes apart within one."""
    batches: list[list[population.PlannedEvent]] = []
    for planned in events:
        if batches and len(batches[-1]) < size and planned.at - batches[-1][0].at <= timedelta(minutes=15):
            batches[-1].append(planned)
        else:
            batches.append([planned])
    return batches


def _scan(table: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        # Only what the summary counts: moto serialises large responses slowly.
        "ProjectionExpression": "pk, sk, entity, #status, skip_reason, program_id, survey_type, score, #comment, "
        "reason, escalated_at, delivery_status, objected_at",
        "ExpressionAttributeNames": {"#status": "status", "#comment": "comment"},
    }
    while True:
        page = client.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _tally(counter: Counter[Any]) -> str:
    return ", ".join(f"{key} {count}" for key, count in counter.most_common()) or "-"


def _s(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(next(iter(value.values())))


def _period_line(label: str, period: dict[str, Any], survey: str) -> str:
    interval = period.get("interval") or {}
    digits = 2 if survey == "ces" else 0
    low, high = interval.get("low"), interval.get("high")
    ci = f"[{low:.{digits}f}, {high:.{digits}f}]" if low is not None and high is not None else "n/a"
    flag = "  (small sample)" if period.get("small_sample") else ""
    display = period.get("display")
    return f"{label:<24}{period.get('n', 0):>8}   {'-' if display is None else display!s:>8}   95% CI {ci}{flag}"


def summarise(  # noqa: PLR0917, PLR0915 - one printed report
    stack: LocalStack,
    pop: population.Population,
    stats: Stats,
    outbox: Path,
    api: ApiClient,
    clock: ManualClock,
    elapsed: float,
) -> str:
    items = _scan(stack.outputs["TableName"])
    by_entity: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_entity[_s(item, "entity") or "?"].append(item)
    invitations, responses = by_entity["invitation"], by_entity["response"]
    status = Counter(_s(i, "status") for i in invitations)
    skips = Counter(_s(i, "skip_reason") for i in invitations if "skip_reason" in i)
    delivery = Counter(_s(i, "delivery_status") for i in invitations if "delivery_status" in i)
    parked = len(stack.dead_letters("InviteDeadLetterQueue"))
    stream_parked = sum(
        len(stack.dead_letters(queue))
        for queue in ("ScoreDeadLetterQueue", "AlertDeadLetterQueue", "ExportDeadLetterQueue")
    )
    catalogue = load_programs()
    wanted = sum(len(catalogue.for_event(e.source, e.detail_type, e.detail)) for e in pop.events if e.kind != "invalid")
    commented = sum("comment" in i for i in responses)

    lines = [
        "",
        f"npsloop demo summary: {pop.days} days, {len(pop.customers)} customers, {len(population.STORES)} stores",
        "=" * 78,
        f"business events put on the bus       {stats.events_put:>7}   (failed entries: {stats.failed_entries})",
        f"invitations sent                     {status.get('sent', 0):>7}",
        f"invitations skipped                  {status.get('skipped', 0):>7}",
    ]
    lines += [f"  - {reason:<33} {count:>7}" for reason, count in skips.most_common()]
    lines += [
        f"duplicate deliveries ignored         {wanted - len(invitations):>7}   (same event again, or re-emitted)",
        f"invalid events parked in the DLQ     {parked:>7}",
        f"records parked by stream consumers   {stream_parked:>7}   (score, alert and export DLQs)",
        f"delivery reports parked              {len(stack.dead_letters('DeliveryDeadLetterQueue')):>7}",
        f"delivery (SES notifications)         {_tally(delivery)}",
        f"responses stored                     {len(responses):>7}   (with a comment: {commented})",
        f"answers changed by resubmitting      {stats.answers_changed:>7}",
        f"scanner GETs (no response written)   {stats.scanner_gets:>7}",
        f"one-click unsubscribes               {stats.unsubscribes:>7}",
    ]

    # Scores, read back through the score API (served from the aggregates).
    end = clock.now().date()
    begin = pop.start.date()
    lines += ["", f"Scores over the {pop.days} days (score API, from the aggregates)", "-" * 78]
    lines.append(f"{'program':<24}{'answers':>8}   {'score':>8}")
    for program in catalogue.program:
        body = api.scores(program.id, **{"from": begin.isoformat(), "to": end.isoformat(), "period": "month"})
        for group in body.get("groups", []):
            for period in group.get("periods", []):
                label = f"{program.id} {period.get('period')}"
                lines.append(_period_line(label, period, body.get("survey_type", "")))
    nps_program = "post-purchase-nps"
    by_store = api.scores(
        nps_program, **{"from": begin.isoformat(), "to": end.isoformat(), "period": "month", "group_by": "store"}
    )
    totals = []
    for group in by_store.get("groups", []):
        n = sum(p.get("n", 0) for p in group.get("periods", []))
        counts: Counter[int] = Counter()
        for period in group.get("periods", []):
            counts.update(_counts(period))
        if n:
            totals.append((statistics.nps(counts), group.get("value")))
    totals.sort(key=lambda pair: pair[0].value or 0, reverse=True)
    lines += ["", f"Best and worst stores, NPS ({nps_program}, all {pop.days} days)", "-" * 78]
    for estimate, store in [*totals[:3], (None, None), *totals[-3:]]:
        if estimate is None:
            lines.append("  ...")
            continue
        lines.append(f"  {store:<12} {_nps_text(estimate)}")
    recent = api.scores(
        nps_program,
        **{
            "from": (end - timedelta(days=41)).isoformat(),
            "to": end.isoformat(),
            "period": "week",
            "group_by": "store",
            "value": population.DETERIORATING_STORE,
        },
    )
    lines += ["", f"{population.DETERIORATING_STORE}, week by week (the deteriorating store)", "-" * 78]
    for group in recent.get("groups", []):
        for period in group.get("periods", []):
            change = period.get("change") or {}
            drop = change.get("significant") and (change.get("delta") or 0) < 0
            mark = f"  significant drop ({change['delta']:+.0f} points)" if drop else ""
            lines.append(_period_line(f"  {period.get('period')}", period, "nps") + mark)

    lines += _before_and_after(api, nps_program, begin, end, pop)

    # Alerts and cases.
    alerts = [i for i in items if (_s(i, "sk") or "").startswith("ALERT#")]
    by_rule = Counter((_s(i, "sk") or "").removeprefix("ALERT#") for i in alerts)
    cases = by_entity["case"]
    case_status = Counter(_s(i, "status") for i in cases)
    escalated = sum("escalated_at" in i for i in cases)
    lines += ["", "Alerts and follow-up cases", "-" * 78]
    lines.append(f"alerts fired                         {len(alerts):>7}   ({_tally(by_rule)})")
    lines.append(f"cases opened                         {len(cases):>7}   ({_tally(case_status)})")
    lines.append(f"cases escalated to a manager         {escalated:>7}")
    lines.append(f"cases resolved by staff              {case_status.get('resolved', 0):>7}")
    lines.append(f"customers unreachable at first call  {stats.cases_unreachable:>7}")

    # Suppressions.
    suppressions = Counter(_s(i, "reason") or "?" for i in by_entity["suppression"])
    objections = sum("objected_at" in i for i in by_entity["customer"])
    lines += ["", "Suppressions (bounces and complaints)", "-" * 78]
    lines.append(f"addresses suppressed                 {sum(suppressions.values()):>7}   ({_tally(suppressions)})")
    lines.append(f"objections recorded (complaints)     {objections:>7}")

    # The export, and one Athena query run with DuckDB.
    exported = _download_exports(stack, outbox.parent / "export")
    lines += ["", "Export for Athena", "-" * 78]
    for prefix, files in sorted(exported.items()):
        lines.append(f"  s3://{stack.outputs['ExportBucketName']}/{prefix}/dt=.../   {len(files):>5} objects")
    lines += ["", "Athena named query 'NPS by store with counts', run with DuckDB on the export", "-" * 78]
    lines += _duckdb_nps_by_store(outbox.parent / "export", limit=8)
    lines += [
        "",
        f"outbox: {outbox}  ({len(stack.outbox)} .eml files; open one in a mail client)",
        f"function logs (structured JSON, as in CloudWatch): {outbox.parent / 'logs'}",
        f"finished in {elapsed:.1f} s",
    ]
    return "\n".join(lines)


def _counts(period: dict[str, Any]) -> dict[int, int]:
    """A score API period's counts per score value (JSON keys are strings)."""
    return {int(k): v for k, v in (period.get("counts") or {}).items()}


def _nps_text(estimate: statistics.Estimate) -> str:
    return f"NPS {estimate.value:+6.1f}   95% CI [{estimate.low:.0f}, {estimate.high:.0f}]   n={estimate.n}"


def _before_and_after(api: ApiClient, program: str, begin: Any, end: Any, pop: population.Population) -> list[str]:
    """The deteriorating store before and during its last three weeks, and whether the drop is significant."""
    turn = pop.start.date() + timedelta(days=pop.days - population.DETERIORATION_DAYS)
    daily = api.scores(
        program,
        **{
            "from": begin.isoformat(),
            "to": end.isoformat(),
            "period": "day",
            "group_by": "store",
            "value": population.DETERIORATING_STORE,
        },
    )
    halves: dict[bool, Counter[int]] = {False: Counter(), True: Counter()}
    for group in daily.get("groups", []):
        for period in group.get("periods", []):
            late = datetime.fromisoformat(period["from"]).date() >= turn
            halves[late].update(_counts(period))
    before, after = statistics.nps(halves[False]), statistics.nps(halves[True])
    lines = []
    for label, estimate in ((f"before {turn}", before), (f"from {turn}", after)):
        if estimate.value is None:
            lines.append(f"  {label:<22} no answers")
            continue
        flag = "  (small sample)" if estimate.small_sample else ""
        lines.append(f"  {label:<22} {_nps_text(estimate)}{flag}")
    moved = statistics.change(after, before)
    if moved is not None:
        verdict = "significant" if moved.significant else "not significant"
        if not moved.significant and (before.small_sample or after.small_sample):
            verdict += " (too few answers to test)"
        lines.append(f"  change {moved.delta:+.1f} points, {verdict} at 5%")
    return lines


def _download_exports(stack: LocalStack, target: Path) -> dict[str, list[Path]]:
    shutil.rmtree(target, ignore_errors=True)
    s3 = stack.client("s3")
    bucket = stack.outputs["ExportBucketName"]
    found: dict[str, list[Path]] = defaultdict(list)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            path = target / entry["Key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read())
            found[entry["Key"].split("/", 1)[0]].append(path)
    return found


def _duckdb_nps_by_store(export: Path, limit: int) -> list[str]:
    try:
        rows = athena.run_named_query(Template.load(ROOT / "template.yaml"), export, "NpsByStoreQuery")
    except FileNotFoundError as exc:
        return [f"  ({exc})"]
    if not rows:
        return ["  (no rows)"]
    names = list(rows[0])
    shown = rows[:limit]
    widths = [max(len(name), *(len(str(row[name])) for row in shown)) for name in names]
    out = ["  " + "  ".join(name.rjust(w) for name, w in zip(names, widths, strict=True))]
    out += ["  " + "  ".join(str(row[name]).rjust(w) for name, w in zip(names, widths, strict=True)) for row in shown]
    out.append(f"  ... {len(rows)} rows in all")
    return out


def main(argv: list[str] | None = None) -> int:
    # Handler errors (deliveries retried after meeting an in-flight claim) are in the function logs
    # and the summary; the stack's own warnings would only interleave with the progress bar.
    logging.getLogger("npsloop_local").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__)
    # 5,000 customers is the aim; the local stack manages about 7-8 business events a second
    # (docs/local-stack.md), so the default is what fits in under three minutes with start and stop
    # (make demo DEMO_ARGS="--customers 5000" takes about 22 minutes).
    parser.add_argument("--customers", type=int, default=600)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--outbox", type=Path, default=ROOT / ".local" / "outbox")
    args = parser.parse_args(argv)
    outcome = _run(args.customers, args.days, args.workers, args.outbox, quiet=False)
    print(outcome.summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
