"""`make demo`: a month of business events through the real handlers on the local stack.

Customers get survey emails (in .local/outbox, openable in a mail client); simulated respondents
click a score link over real HTTP, confirm it on the page and sometimes comment; link scanners
prefetch every link and commit nothing. A summary is printed at the end.
"""

from __future__ import annotations

import argparse
import email
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
from npsloop.domain.scoring import score
from npsloop.domain.surveys import SurveyType
from npsloop_local import population
from npsloop_local.stack import LocalStack

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
    http_requests: int = 0


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
    return Invitation(str(message["To"]), links, header.group(1) if header else None, survey)


class Respondents:
    """People (and a few link-scanning bots) acting on the emails they received."""

    def __init__(self, pop: population.Population, stats: Stats, seed: int = 7) -> None:
        self._people = pop.by_email()
        self._quality = pop.store_quality
        self._stats = stats
        self._rng = random.Random(seed)

    def act(self, invitation: Invitation) -> None:
        rng = random.Random(self._rng.random())
        person = self._people.get(invitation.recipient.lower())
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
        quality = self._quality.get(person.home_store, 0.6)
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


@dataclass
class Outcome:
    stats: Stats
    summary: str


def simulate(customers: int, days: int, workers: int, outbox: Path, quiet: bool = False) -> Stats:
    return _run(customers, days, workers, outbox, quiet).stats


def _run(customers: int, days: int, workers: int, outbox: Path, quiet: bool) -> Outcome:
    started = time.monotonic()
    start = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    clock = ManualClock(start)
    pop = population.build(customers, days, start)
    stats = Stats()
    progress = Progress(enabled=not quiet)
    shutil.rmtree(outbox, ignore_errors=True)
    if not quiet:
        print(f"npsloop demo: {customers} customers, {len(pop.events)} business events over {days} days", flush=True)

    with LocalStack(
        template_path=ROOT / "template.yaml",
        parameters={"Stage": "demo", "LogLevel": "ERROR"},
        clock=clock,
        outbox_dir=outbox,
        logs_dir=outbox.parent / "logs",
    ) as stack:
        bus = stack.outputs["EventBusName"]
        respondents = Respondents(pop, stats)
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
                clock.set(max(clock.now(), start + timedelta(days=day, hours=20)))
                fresh = [p for p in stack.outbox if p not in seen]
                seen.update(fresh)
                list(pool.map(lambda path: respondents.act(read_email(path)), fresh))
                stack.drain()
                progress.update(f"day {day + 1}/{days}", stats.events_put, len(pop.events), force=day == days - 1)
        summary = summarise(stack, pop, stats, outbox, time.monotonic() - started)
    return Outcome(stats, summary)


def _interval(survey: SurveyType, counts: Counter[int]) -> str:
    estimate = {SurveyType.NPS: statistics.nps, SurveyType.CSAT: statistics.csat}.get(survey)
    result = estimate(counts) if estimate else statistics.ces(counts)[0]
    digits = 2 if survey is SurveyType.CES else 0
    return f"[{result.low:.{digits}f}, {result.high:.{digits}f}]"


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
        "ProjectionExpression": "entity, #status, skip_reason, program_id, survey_type, score, #comment",
        "ExpressionAttributeNames": {"#status": "status", "#comment": "comment"},
    }
    while True:
        page = client.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def summarise(stack: LocalStack, pop: population.Population, stats: Stats, outbox: Path, elapsed: float) -> str:
    items = _scan(stack.outputs["TableName"])
    invitations = [i for i in items if i.get("entity", {}).get("S") == "invitation"]
    responses = [i for i in items if i.get("entity", {}).get("S") == "response"]
    status = Counter(i["status"]["S"] for i in invitations)
    skips = Counter(i["skip_reason"]["S"] for i in invitations if "skip_reason" in i)
    parked = len(stack.dead_letters("InviteDeadLetterQueue"))
    per_program: dict[tuple[str, str], Counter[int]] = defaultdict(Counter)
    for item in responses:
        per_program[(item["program_id"]["S"], item["survey_type"]["S"])][int(item["score"]["N"])] += 1
    sent_per_program = Counter(i["program_id"]["S"] for i in invitations if i["status"]["S"] == "sent")
    commented = sum("comment" in i for i in responses)
    catalogue = load_programs()
    wanted = sum(len(catalogue.for_event(e.source, e.detail_type, e.detail)) for e in pop.events if e.kind != "invalid")

    lines = [
        "",
        "npsloop demo summary",
        "=" * 64,
        f"business events put on the bus     {stats.events_put:>7}   (failed entries: {stats.failed_entries})",
        f"invitations sent                   {status.get('sent', 0):>7}",
        f"invitations skipped                {status.get('skipped', 0):>7}",
    ]
    lines += [f"  - {reason:<31} {count:>7}" for reason, count in skips.most_common()]
    lines += [
        f"duplicate deliveries ignored       {wanted - len(invitations):>7}   (same event again, or re-emitted)",
        f"invalid events parked in the DLQ   {parked:>7}",
        f"responses stored                   {len(responses):>7}   (with a comment: {commented})",
        f"answers changed by resubmitting    {stats.answers_changed:>7}",
        f"scanner GETs (no response written) {stats.scanner_gets:>7}",
        f"one-click unsubscribes             {stats.unsubscribes:>7}",
        "",
        f"{'program':<22}{'survey':>7}{'sent':>7}{'answers':>9}{'rate':>7}   score",
    ]
    for (program, survey), counts in sorted(per_program.items()):
        result = score(SurveyType(survey), counts)
        sent = sent_per_program.get(program, 0)
        rate = f"{100 * result.responses / sent:.0f}%" if sent else "-"
        label = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}[survey]
        lines.append(
            f"{program:<22}{label:>7}{sent:>7}{result.responses:>9}{rate:>7}   {label} {result.display()}"
            f"   95% CI {_interval(SurveyType(survey), counts)}"
        )
    lines += [
        "",
        f"outbox: {outbox}  ({len(stack.outbox)} .eml files; open one in a mail client)",
        f"function logs (structured JSON, as in CloudWatch): {outbox.parent / 'logs'}",
        f"finished in {elapsed:.1f} s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    # Handler errors (deliveries retried after meeting an in-flight claim) are in the function logs
    # and the summary; the stack's own warnings would only interleave with the progress bar.
    logging.getLogger("npsloop_local").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--outbox", type=Path, default=ROOT / ".local" / "outbox")
    args = parser.parse_args(argv)
    outcome = _run(args.customers, args.days, args.workers, args.outbox, quiet=False)
    print(outcome.summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
