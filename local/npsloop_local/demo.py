"""`make demo`: a year of history imported, then three live weeks through the whole loop, on the local stack.

First a Delighted-format export of twelve months of NPS answers (20 stores of different sizes and true
quality, Polish and English comments, a few unsubscribes and bounces) is generated and imported with
the import CLI's own code into the stack's table; the stream consumers score and export it as they
would on AWS. Then the live weeks run as business events: customers get survey emails (in
.local/outbox, openable in a mail client); some addresses bounce or complain (SES's mailbox
simulator, emulated locally); simulated respondents click a score link over real HTTP, confirm it on
the page and sometimes comment, in Polish or English; link scanners prefetch every link and commit
nothing. The flagship store KRK-02 falls apart during the live weeks. The stream consumers score,
alert and export every answer; front-line staff work their follow-up cases through the case API, and
the ones they leave alone escalate. A summary - read back through the score API, the table, S3 and
DuckDB - is printed last.
"""

from __future__ import annotations

import argparse
import email
import gc
import io
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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.policy import compat32
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from npsloop.adapters.dynamodb_aggregates import DynamoAggregates
from npsloop.clock import ManualClock
from npsloop.domain import statistics
from npsloop.domain.programs import load_programs
from npsloop.domain.surveys import SurveyType
from npsloop.services.themes import describe, top_detractor_themes
from npsloop_local import athena, delighted_export, demo_state, forked, moto_peek, population
from npsloop_local.scheduled_reports import reports_sent, run_scheduled_reports
from npsloop_local.stack import LocalStack
from npsloop_local.template import Template

if TYPE_CHECKING:
    from npsloop.services.importing import ImportSummary

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
        self._seed = seed

    def act(self, invitation: Invitation) -> None:
        # Each email's own draws, whatever thread reads it and in whatever order: the run is repeatable.
        rng = random.Random(f"{self._seed}:{invitation.invitation_id or invitation.recipient}")
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


LIVE_END = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday: the live weeks end on Sunday 2026-11-22


@dataclass(frozen=True)
class Scale:
    """How big a run is: the imported history, then the live weeks."""

    history: int  # answers in the generated Delighted export
    history_days: int
    customers: int  # the live population
    live_days: int
    flagship_share: float = population.FLAGSHIP_SHARE  # live customers who shop at KRK-02 besides its share

    @property
    def live_start(self) -> datetime:
        return LIVE_END - timedelta(days=self.live_days)

    @property
    def history_start(self) -> datetime:
        return self.live_start - timedelta(days=self.history_days)


# The live population is a sample of the business, not all of it: the in-process stack manages a few
# business events a second (docs/local-stack.md). Half of it shops at the flagship, so that KRK-02's
# live weeks alone hold enough answers (statistics' minimum sample) to test its drop.
FULL = Scale(
    history=30_000, history_days=365, customers=260, live_days=population.DETERIORATION_DAYS, flagship_share=0.9
)
# Longer than every stream consumer's MaximumBatchingWindowInSeconds and TumblingWindowInSeconds in
# template.yaml (score's are 300 s and 900 s): by then every window has ended and been written.
PAST_WINDOWS = timedelta(
    seconds=1
    + max(
        int(resource["Properties"]["Events"][name]["Properties"].get(setting, 0))
        for resource in Template.load(ROOT / "template.yaml").resources.values()
        if resource.get("Type") == "AWS::Serverless::Function"
        for name in resource["Properties"].get("Events", {})
        if resource["Properties"]["Events"][name].get("Type") == "DynamoDB"
        for setting in ("MaximumBatchingWindowInSeconds", "TumblingWindowInSeconds")
    )
)
QUICK = Scale(history=1_000, history_days=28, customers=260, live_days=7, flagship_share=1.0)


@dataclass
class ImportOutcome:
    answers: int = 0
    unsubscribes: int = 0
    bounces: int = 0
    lines: list[str] = field(default_factory=list)
    rows_per_second: float = 0.0
    imported: int = 0
    rejected: int = 0
    processes: int = 1  # import processes run side by side


@dataclass
class Outcome:
    stats: Stats
    summary: str
    phases: dict[str, float] = field(default_factory=dict)
    browse: str = ""  # how to browse the saved state (printed after the summary)


STATE_DIR = ROOT / ".local" / "demo-state"
LOCAL_URL = "http://127.0.0.1:3000"  # where `make local` serves (python -m npsloop_local's default port)
# Who to sign in as to see the demo, by the local sign-in's persona keys (routing.toml's people).
BROWSING_PERSONAS = ("cx-lead", f"store-{population.DETERIORATING_STORE}", "region-malopolskie", "analyst")


def simulate(customers: int, days: int, workers: int, outbox: Path, quiet: bool = False) -> Stats:
    """The live loop alone (no history): the benchmarks' workload."""
    return _run(Scale(history=0, history_days=0, customers=customers, live_days=days), workers, outbox, quiet).stats


def _run(scale: Scale, workers: int, outbox: Path, quiet: bool, state_dir: Path | None = None) -> Outcome:
    started = time.monotonic()
    phases: dict[str, float] = {}
    start, days = scale.live_start, scale.live_days
    clock = ManualClock(start - timedelta(minutes=30))  # the import runs half an hour before the live weeks
    pop = population.build(scale.customers, days, start, flagship_share=scale.flagship_share)
    stats = Stats()
    progress = Progress(enabled=not quiet)
    shutil.rmtree(outbox, ignore_errors=True)
    if not quiet:
        print(
            f"npsloop demo: {scale.history} answers of history over {scale.history_days} days imported, then "
            f"{days} live days: {scale.customers} customers, {len(population.STORES)} stores, "
            f"{len(pop.events)} business events",
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
        phases["start the local stack"] = time.monotonic() - started
        history, imported = ImportOutcome(), None
        if scale.history:
            with _few_collections():
                imported = _import_history(stack, scale, pop, outbox.parent / "import", quiet, phases)
        mark = time.monotonic()
        api = ApiClient(
            stack.base_url,
            stack.dev_token(
                "demo-cx-lead",
                email="cx-lead@example.com",
                groups=["npsloop-cx-lead"],
                ttl=timedelta(days=60),  # staff work cases for the whole simulated run
            ),
        )
        _live(stack, pop, stats, api, clock, workers, progress)
        phases[f"live loop ({days} days)"] = time.monotonic() - mark
        if imported is not None:  # the older history, imported alongside, before anything reads it
            history = imported.finish(stack, phases)
        saved = None
        if state_dir is not None:  # as the live weeks end: `make local DEMO=1` carries on from here
            mark = time.monotonic()
            saved = demo_state.save(stack, state_dir)
            phases["save the state for make local DEMO=1"] = time.monotonic() - mark
        mark = time.monotonic()
        # The weekly store reports went out on the live Mondays (the schedules fire with the clock); on to
        # the 1st of the next month for the monthly regional and management reports of the live month.
        run_scheduled_reports(stack, until=_month_reports_done(clock.now()))
        phases["scheduled reports to the month's end"] = time.monotonic() - mark
        mark = time.monotonic()
        summary = summarise(stack, pop, stats, outbox, api, clock, scale, history, phases, started)
        phases["summary"] = time.monotonic() - mark
        browse = "" if saved is None else browsing(stack, saved, phases["save the state for make local DEMO=1"])
    gc.unfreeze()  # the stack is gone: its history may be collected
    return Outcome(stats, summary, phases, browse)


@contextmanager
def _few_collections() -> Iterator[None]:
    """Rare garbage collections while the history is built, then that history out of their way.

    The import and its stream pass fill moto with a year of state: millions of small objects that live
    to the end of the run, which CPython's default thresholds (700, 10, 10) walk in full every few hundred
    thousand allocations. Rarer collections take a tenth to a quarter off both phases; afterwards the
    history is frozen (never walked again) and the live weeks run with the defaults (docs/decisions.md).
    """
    defaults = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1_000)
    try:
        yield
    finally:
        gc.set_threshold(*defaults)
        gc.collect()
        gc.freeze()


def browsing(stack: LocalStack, saved: demo_state.DemoState, seconds: float) -> str:
    """What a newcomer does next: start the stack on the saved data, open the dashboard, sign in as someone."""
    # The dashboard once the web function serves it; until then the case list, the staff pages' first page.
    page = "/dashboard" if "GET /dashboard" in stack.routes else "/cases"
    personas = {p.key: p for p in (stack.sign_in.personas if stack.sign_in else [])}
    chosen = [personas[key] for key in BROWSING_PERSONAS if key in personas]
    return "\n".join(
        [
            "",
            "Browse the demo's data",
            "-" * 78,
            f"saved {saved.items} items to {_shown(saved.directory)} in {seconds:.1f} s "
            f"(the clock ended at {saved.ended_at:%Y-%m-%d %H:%M} UTC)",
            "start the local stack on them (Ctrl-C stops it):",
            "",
            "    make local DEMO=1        (or: python -m npsloop_local --demo-data)",
            "",
            f"then open {LOCAL_URL}{page}",
            "and sign in as one of these personas (the sign-in page lists them all):",
            *[f"    {p.label_en:<36} {p.label_pl}" for p in chosen],
            "",
        ]
    )


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT)) + "/"
    except ValueError:
        return str(path)


def _live_reads_from(scale: Scale) -> datetime:
    """The earliest instant of history the live weeks read: the trend alert's windows, or a weekly
    report's trend chart (``TREND_PERIODS`` weeks up to the week it reports), from the first live day;
    a week's margin. A monthly report that runs during the live weeks would read a year: then the whole
    history is needed before them."""
    from npsloop.domain.alerts import load_alert_rules
    from npsloop.domain.reports import TREND_PERIODS

    rule = load_alert_rules().trend
    trend_days = rule.recent_days + rule.baseline_days if rule is not None else 0
    days = max(trend_days, TREND_PERIODS * 7) + 7
    first_of_month = [d for d in range(1, scale.live_days) if (scale.live_start + timedelta(days=d)).day == 1]
    if first_of_month:
        return scale.history_start
    reach = scale.live_start - timedelta(days=days)
    return datetime(reach.year, reach.month, reach.day, tzinfo=UTC)  # a UTC midnight: the day items' unit


@dataclass
class History:
    """The imported history: the part this process imported, and the part a forked copy of the stack
    is importing alongside (see :func:`_import_history`) until :meth:`finish` takes it."""

    answers: int
    unsubscribes: int
    bounces: int
    parts: list[ImportPart]
    child: forked.Forked[ImportPart] | None = None
    older_days: int = 0

    def finish(self, stack: LocalStack, phases: dict[str, float]) -> ImportOutcome:
        from npsloop.services.importing import ImportSummary  # after the stack routes stdout (see _import_part)

        parts = self.parts
        if self.child is not None:
            mark = time.monotonic()
            parts = [self.child.join(stack), *parts]
            gc.freeze()  # a year of history out of the collector's way, as _few_collections does
            phases[f"take the other process's {self.older_days} older days"] = time.monotonic() - mark
        summary = ImportSummary(
            sources=[source for part in parts for source in part.summary.sources],
            seconds=max(p.import_seconds for p in parts),  # one part, or two side by side
            rejects_path=parts[-1].summary.rejects_path,
        )
        return ImportOutcome(
            answers=self.answers,
            unsubscribes=self.unsubscribes,
            bounces=self.bounces,
            lines=summary.lines(),
            rows_per_second=summary.rows_per_second,
            imported=summary.total("imported"),
            rejected=summary.total("rejected"),
            processes=1 if self.child is None else 2,
        )


def _import_history(  # noqa: PLR0917 - the run's parts
    stack: LocalStack, scale: Scale, pop: population.Population, work: Path, quiet: bool, phases: dict[str, float]
) -> History:
    """Generate a Delighted export of the history and import it with the import CLI's code, the stream
    consumers scoring and exporting it.

    Where the platform allows (:mod:`npsloop_local.forked`), the older days - all that the live weeks
    never read (:func:`_live_reads_from`) - are imported by a forked copy of the stack, alongside this
    process's import of the recent days and then the live weeks; :meth:`History.finish` takes them
    before anything reads them (the save, the month's reports, the summary). Elsewhere both files are
    imported here, one after the other.
    """
    mark = time.monotonic()
    rng = random.Random(scale.history)
    addresses = sorted(c.email for c in pop.customers if c.email and not c.email.endswith("simulator.amazonses.com"))
    # A few live customers unsubscribed or bounced in Delighted: the live weeks must not survey them.
    unsubscribed = tuple(rng.sample(addresses, k=max(1, len(addresses) // 100)))
    bounced = tuple(rng.sample(sorted(set(addresses) - set(unsubscribed)), k=max(1, len(addresses) // 200)))
    export = delighted_export.generate(
        scale.history,
        scale.history_start,
        scale.live_start - timedelta(hours=1),
        store_quality=pop.store_quality,
        unsubscribed_emails=unsubscribed,
        bounced_emails=bounced,
        # One NPS survey, as most Delighted accounts ran: the summary's ranking and KRK-02's baseline.
        survey_mix=[("nps", 1.0)],
    )
    shutil.rmtree(work, ignore_errors=True)
    files = export.write(work / "delighted")
    split = _live_reads_from(scale)
    older, recent = export.write_split(work / "delighted", split) if split > scale.history_start else (None, None)
    phases["generate the Delighted export"] = time.monotonic() - mark

    history = History(len(export.responses), len(export.unsubscribes), len(export.bounces), [])
    consumed_by = stack.clock.now() + PAST_WINDOWS
    if older is not None:
        first = {"delighted-responses": older}
        history.child = forked.fork(
            stack, lambda: _import_part(stack, first, work / "part-1", True, consumed_by), work / "fork"
        )
    if history.child is None or recent is None:
        history.parts.append(_import_part(stack, files, work / "whole", quiet, consumed_by))
        phases["import (python -m npsloop.importing)"] = history.parts[0].import_seconds
        phases["stream consumers over the history"] = history.parts[0].drain_seconds
        return history
    history.older_days = (split - scale.history_start).days
    own = _import_part(stack, {**files, "delighted-responses": recent}, work / "part-2", quiet, consumed_by)
    history.parts.append(own)
    recent_days = (scale.live_start - split).days
    phases[f"import the last {recent_days} days (the older in another process)"] = own.import_seconds
    phases["stream consumers over the history"] = own.drain_seconds
    return history


@dataclass
class ImportPart:
    summary: ImportSummary
    import_seconds: float
    drain_seconds: float


def _import_part(
    stack: LocalStack, files: dict[str, Path], work: Path, quiet: bool, consumed_by: datetime
) -> ImportPart:
    """One import run (the CLI's code, into the stack's table), then the stream consumers over it, the
    clock moved on to ``consumed_by`` (past their batching windows)."""
    # Imported here, once the stack routes stdout: the importer's module-level logger is the functions'
    # shared one, and it binds sys.stdout when first imported (the function logs would reach the terminal).
    from npsloop.adapters.dynamodb_import import DynamoImportWriter
    from npsloop.importing import cli as import_cli

    mark = time.monotonic()
    table = stack.outputs["TableName"]
    argv = ["--table", table, "--checkpoint", str(work / "checkpoint.json"), "--rejects", str(work / "rejects.jsonl")]
    argv += [arg for kind, path in files.items() for arg in (f"--{kind}", str(path))]
    if quiet:
        argv.append("--quiet")
    work.mkdir(parents=True, exist_ok=True)
    writer = DynamoImportWriter(table, stack.client("dynamodb"))
    code, summary = import_cli.run(argv, writer=writer, out=io.StringIO())
    if summary is None or code != 0:
        raise RuntimeError(f"the import failed (exit {code}); see {work}")
    imported = time.monotonic()
    clock: Any = stack.clock  # the demo's ManualClock
    clock.set(max(clock.now(), consumed_by))
    stack.drain()  # score and export consume the imported answers (alerts filter them out)
    return ImportPart(summary, imported - mark, time.monotonic() - imported)


def _live(  # noqa: PLR0917 - the loop's collaborators
    stack: LocalStack,
    pop: population.Population,
    stats: Stats,
    api: ApiClient,
    clock: ManualClock,
    workers: int,
    progress: Progress,
) -> None:
    start, days = pop.start, pop.days
    bus = stack.outputs["EventBusName"]
    respondents = Respondents(pop, stats, clock)
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
            clock.set(max(clock.now(), start + timedelta(days=day, hours=12) + PAST_WINDOWS))
            stack.drain()  # scoring and the export, once their batching windows have passed
            clock.set(max(clock.now(), start + timedelta(days=day, hours=16)))
            stack.drain()  # the case sweep (scheduled) reopens unreachable cases due a retry
            staff.work()
            clock.set(max(clock.now(), start + timedelta(days=day, hours=23)))
            stack.drain()  # and escalates what is overdue
            progress.update(f"day {day + 1}/{days}", stats.events_put, len(pop.events), force=day == days - 1)
    clock.set(clock.now() + PAST_WINDOWS)
    stack.drain()  # what the last sweep changed reaches the export before the summary reads it


def _month_reports_done(now: datetime) -> datetime:
    """An hour after the monthly reports' 08:00 (Europe/Warsaw) on the 1st of the month after ``now``."""
    warsaw = ZoneInfo("Europe/Warsaw")
    local = now.astimezone(warsaw)
    first = (local.replace(day=1) + timedelta(days=32)).replace(day=1, hour=9, minute=0, second=0, microsecond=0)
    return first.astimezone(UTC)


def _reports_and_themes(stack: LocalStack, outbox: Path, first: Any, last: Any) -> list[str]:
    """The scheduled reports the run sent, and what detractors' comments were about (comment analysis)."""
    sent = reports_sent(stack)
    lines = ["", "Scheduled reports (EventBridge Scheduler -> planner -> SQS -> worker, one per recipient)", "-" * 78]
    for report_id, count in sorted(sent.items()):
        lines.append(f"  {report_id:<36} {count:>5} sent")
    lines.append(f"  {'in all':<36} {sum(sent.values()):>5} sent   (the emails are in {outbox})")
    reader = DynamoAggregates(stack.outputs["TableName"], client=stack.client("dynamodb"))
    per_program = top_detractor_themes(reader, [p.id for p in load_programs().program], first, last)
    lines += ["", f"What detractors' comments were about, {first} to {last} (comment analysis, theme aggregates)",
              "-" * 78]  # fmt: skip
    lines += [f"  {line}" for line in describe(per_program)]
    return lines


def _batches(events: list[population.PlannedEvent], size: int = 10) -> list[list[population.PlannedEvent]]:
    """Consecutive events, at most ``size`` per batch and at most 15 minutes apart within one."""
    batches: list[list[population.PlannedEvent]] = []
    for planned in events:
        if batches and len(batches[-1]) < size and planned.at - batches[-1][0].at <= timedelta(minutes=15):
            batches[-1].append(planned)
        else:
            batches.append([planned])
    return batches


def _scan(stack: LocalStack) -> tuple[list[dict[str, Any]], int]:
    """The live run's items (not the aggregates or the imported answers; imported suppressions are kept),
    and a count of the imported answers, read from moto's state: a Scan of the year's tens of thousands
    of items would cost moto most of a minute of serialisation for what is only counted here."""
    table = stack.outputs["TableName"]
    imported = 0

    def keep(item: dict[str, Any]) -> bool:
        nonlocal imported
        if str(item["pk"]).startswith("AGG"):
            return False
        if "imported" in item and item.get("entity") == "response":
            imported += 1
            return False
        return "imported" not in item or item.get("entity") == "suppression"

    live = moto_peek.table_items(stack.dispatcher.resolver.account_id, stack.region, table, keep)
    if live is None:
        raise RuntimeError(f"table {table} not found in moto")
    return live, imported


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
    scale: Scale,
    history: ImportOutcome,
    phases: dict[str, float],
    started: float,
) -> str:
    summary_started = time.monotonic()
    items, imported = _scan(stack)
    by_entity: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_entity[_s(item, "entity") or "?"].append(item)
    invitations = by_entity["invitation"]
    responses = by_entity["response"]
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
        f"npsloop demo summary: {scale.history_days} days of imported history, then {pop.days} live days with "
        f"{len(pop.customers)} customers, {len(population.STORES)} stores",
        "=" * 78,
    ]
    if scale.history:
        lines += [
            f"History: a Delighted export of {history.answers} NPS answers "
            f"({scale.history_start.date()} to {scale.live_start.date() - timedelta(days=1)}), "
            f"{history.unsubscribes} unsubscribes, {history.bounces} bounces",
            "-" * 78,
            *[f"  {line}" for line in history.lines],
            f"import throughput                    {history.rows_per_second:>7.0f} rows/s"
            + (f"   ({history.processes} import processes side by side)" if history.processes > 1 else ""),
            f"answers imported                     {imported:>7}",
            f"stream consumers over the history    {phases.get('stream consumers over the history', 0):>7.1f} s"
            "   (score and export; alerts and cases filter imported answers out)"
            + (" - over the recent days; the older ones in the other process" if history.processes > 1 else ""),
            "",
        ]
    lines += [
        f"Live weeks ({pop.start.date()} to {(pop.start + timedelta(days=pop.days - 1)).date()})",
        "-" * 78,
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
    lines += ["", f"Scores over the {pop.days} live days (score API, from the aggregates)", "-" * 78]
    lines.append(f"{'program':<24}{'answers':>8}   {'score':>8}")
    for program in catalogue.program:
        body = api.scores(program.id, **{"from": begin.isoformat(), "to": end.isoformat(), "period": "month"})
        for group in body.get("groups", []):
            for period in group.get("periods", []):
                label = f"{program.id} {period.get('period')}"
                lines.append(_period_line(label, period, body.get("survey_type", "")))

    nps_program = "post-purchase-nps"
    baseline_from = (scale.history_start if scale.history else pop.start).date()
    baseline_to = begin - timedelta(days=1)
    baseline = _store_totals(api, nps_program, baseline_from, baseline_to) if scale.history else {}
    live = _store_totals(api, nps_program, begin, end)
    lines += _ranking(baseline or live, f"{baseline_from} to {baseline_to}" if baseline else f"{begin} to {end}")
    lines += _drop(baseline, live, begin)

    recent = api.scores(
        nps_program,
        **{
            "from": (end - timedelta(days=55)).isoformat(),
            "to": end.isoformat(),
            "period": "week",
            "group_by": "store",
            "value": population.DETERIORATING_STORE,
        },
    )
    lines += [
        "",
        f"{population.DETERIORATING_STORE}, week by week (score API; each week against the one before)",
        "-" * 78,
    ]
    for group in recent.get("groups", []):
        for period in group.get("periods", []):
            change = period.get("change") or {}
            drop = change.get("significant") and (change.get("delta") or 0) < 0
            mark = f"  significant drop ({change['delta']:+.0f} points)" if drop else ""
            lines.append(_period_line(f"  {period.get('period')}", period, "nps") + mark)

    # Alerts and cases.
    alerts = [i for i in items if (_s(i, "sk") or "").startswith("ALERT#")]
    # A trend alert's claim is ALERT#segment-trend#<block> under INV#TREND#<program>#<dimension>#<value>.
    by_rule = Counter((_s(i, "sk") or "").removeprefix("ALERT#").split("#")[0] for i in alerts)
    trend_segments = sorted(
        {" ".join((_s(i, "pk") or "").split("#")[-2:]) for i in alerts if (_s(i, "pk") or "").startswith("INV#TREND#")}
    )
    cases = by_entity["case"]
    case_status = Counter(_s(i, "status") for i in cases)
    escalated = sum("escalated_at" in i for i in cases)
    lines += ["", "Alerts and follow-up cases", "-" * 78]
    lines.append(f"alerts fired                         {len(alerts):>7}   ({_tally(by_rule)})")
    lines.append(
        f"segments whose score dropped         {len(trend_segments):>7}   "
        f"({', '.join(trend_segments) or 'none'}: the daily trend scan, after Benjamini-Hochberg)"
    )
    lines.append(f"cases opened                         {len(cases):>7}   ({_tally(case_status)})")
    lines.append(f"cases escalated to a manager         {escalated:>7}")
    lines.append(f"cases resolved by staff              {case_status.get('resolved', 0):>7}")
    lines.append(f"customers unreachable at first call  {stats.cases_unreachable:>7}")

    # Suppressions.
    suppressed = by_entity["suppression"]
    suppressions = Counter(_s(i, "reason") or "?" for i in suppressed if "imported" not in i)
    carried = Counter(_s(i, "reason") or "?" for i in suppressed if "imported" in i)
    objections = sum("objected_at" in i for i in by_entity["customer"])
    lines += ["", "Suppressions (bounces, complaints and unsubscribes)", "-" * 78]
    lines.append(f"addresses suppressed                 {sum(suppressions.values()):>7}   ({_tally(suppressions)})")
    lines.append(f"suppressions imported from Delighted {sum(carried.values()):>7}   ({_tally(carried)})")
    lines.append(f"objections recorded (complaints)     {objections:>7}")

    # The export, and one Athena query run with DuckDB.
    exported = _download_exports(stack, outbox.parent / "export")
    lines += ["", "Export for Athena", "-" * 78]
    for prefix, files in sorted(exported.items()):
        lines.append(f"  s3://{stack.outputs['ExportBucketName']}/{prefix}/dt=.../   {len(files):>5} objects")
    lines += ["", "Athena named query 'NPS by store with counts', run with DuckDB on the export", "-" * 78]
    lines += _duckdb_nps_by_store(outbox.parent / "export", limit=8)
    lines += _reports_and_themes(stack, outbox, scale.history_start.date(), clock.now().date())
    lines += [
        "",
        f"outbox: {outbox}  ({len(stack.outbox)} .eml files; open one in a mail client)",
        f"function logs (structured JSON, as in CloudWatch): {outbox.parent / 'logs'}",
        "",
        "Time",
        "-" * 78,
        *[f"  {phase:<38} {seconds:>6.1f} s" for phase, seconds in phases.items()],
        f"  {'summary':<38} {time.monotonic() - summary_started:>6.1f} s",
        f"finished in {time.monotonic() - started:.1f} s",
    ]
    return "\n".join(lines)


def _counts(period: dict[str, Any]) -> dict[int, int]:
    """A score API period's counts per score value (JSON keys are strings)."""
    return {int(k): v for k, v in (period.get("counts") or {}).items()}


def _nps_text(estimate: statistics.Estimate) -> str:
    if estimate.value is None:
        return "no answers"
    return f"NPS {estimate.value:+6.1f}   95% CI [{estimate.low:.0f}, {estimate.high:.0f}]   n={estimate.n}"


def _store_totals(api: ApiClient, program: str, first: Any, last: Any) -> dict[str, statistics.Estimate]:
    """Each store's NPS over a range: the score API's periods summed, scored with its minimum sample."""
    body = api.scores(
        program, **{"from": first.isoformat(), "to": last.isoformat(), "period": "month", "group_by": "store"}
    )
    minimum = int(body.get("min_sample") or statistics.DEFAULT_MINIMUM_SAMPLE)
    totals = {}
    for group in body.get("groups", []):
        counts: Counter[int] = Counter()
        for period in group.get("periods", []):
            counts.update(_counts(period))
        totals[str(group.get("value"))] = statistics.nps(counts, minimum)
    return totals


def _ranking(totals: dict[str, statistics.Estimate], label: str) -> list[str]:
    """Stores ranked by NPS where the sample suffices; small samples listed apart, not ranked."""
    minimum = statistics.DEFAULT_MINIMUM_SAMPLE
    every = [store for store, _, _ in population.STORES]  # a store without an answer is listed too
    totals = {**dict.fromkeys(every, statistics.nps({})), **totals}
    ranked = sorted(
        ((e, store) for store, e in totals.items() if e.value is not None and not e.small_sample),
        key=lambda pair: (-(pair[0].value or 0), pair[1]),
    )
    apart = sorted((store, e) for store, e in totals.items() if e.value is None or e.small_sample)
    lines = ["", f"Stores, NPS over {label} (score API), ranked where n >= {minimum}", "-" * 78]
    lines += [f"  {rank:>2}. {store:<12} {_nps_text(e)}" for rank, (e, store) in enumerate(ranked, start=1)]
    if apart:
        lines.append(f"  not ranked (small sample, fewer than {minimum} answers):")
        lines += [f"      {store:<12} {_nps_text(e)}" for store, e in apart]
    return lines


def _drop(baseline: dict[str, statistics.Estimate], live: dict[str, statistics.Estimate], turn: Any) -> list[str]:
    """The deteriorating store's live weeks against its own history, and every steady store's."""
    store = population.DETERIORATING_STORE
    lines = ["", f"{store} against its own baseline (statistics.change, z-test at 5%)", "-" * 78]
    if not baseline:
        return [*lines, "  no history imported: no baseline"]
    empty = statistics.nps({})
    before, after = baseline.get(store, empty), live.get(store, empty)
    lines.append(f"  {'baseline, before ' + str(turn):<26} {_nps_text(before)}")
    lines.append(f"  {'live weeks, from ' + str(turn):<26} {_nps_text(after)}")
    lines.append(f"  {_verdict(statistics.change(after, before), before.small_sample or after.small_sample)}")
    testable, moved = 0, []
    for other in sorted(set(baseline) | set(live)):
        if other == store:
            continue
        change = statistics.change(live.get(other, empty), baseline.get(other, empty))
        if change is not None and not (live.get(other, empty).small_sample or baseline.get(other, empty).small_sample):
            testable += 1
            if change.significant:
                moved.append(f"{other} {change.delta:+.1f}")
    steady = len(set(baseline) | set(live)) - 1
    lines.append(
        f"  steady stores: {testable} of {steady} with enough live answers to test; "
        f"significant changes: {', '.join(moved) or 'none'}"
    )
    return lines


def _verdict(moved: statistics.Change | None, small: bool) -> str:
    if moved is None:
        return "change: no answers on one side"
    if moved.significant:
        word = "drop" if moved.delta < 0 else "rise"
        return f"change {moved.delta:+.1f} points (z {moved.z:+.2f}): significant {word} at 5%"
    return f"change {moved.delta:+.1f} points (z {moved.z:+.2f}): not significant at 5%" + (
        " (too few answers to test)" if small else ""
    )


def _download_exports(stack: LocalStack, target: Path) -> dict[str, list[Path]]:
    """The export bucket copied to ``target``: read from moto's state (the API when it cannot be found)."""
    shutil.rmtree(target, ignore_errors=True)
    bucket = stack.outputs["ExportBucketName"]
    objects = moto_peek.bucket_objects(stack.dispatcher.resolver.account_id, bucket)
    if objects is None:
        s3 = stack.client("s3")
        objects = {
            entry["Key"]: s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for entry in page.get("Contents", [])
        }
    found: dict[str, list[Path]] = defaultdict(list)
    for key, body in sorted(objects.items()):
        path = target / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        found[key.split("/", 1)[0]].append(path)
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small version (the e2e test runs it)")
    parser.add_argument("--history", type=int, help=f"answers of history to import (default {FULL.history})")
    parser.add_argument("--customers", type=int, help=f"the live population (default {FULL.customers})")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--outbox", type=Path, default=ROOT / ".local" / "outbox")
    parser.add_argument(
        "--state", type=Path, default=STATE_DIR, help=f"where the data is saved for make local DEMO=1 ({STATE_DIR})"
    )
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    if args.history is not None:
        scale = replace(scale, history=args.history)
    if args.customers is not None:
        scale = replace(scale, customers=args.customers)
    outcome = _run(scale, args.workers, args.outbox, quiet=False, state_dir=args.state)
    print(report(outcome))
    return 0


def report(outcome: Outcome) -> str:
    """What ``make demo`` prints last: the summary, then how to browse the data it saved."""
    return "\n".join(part for part in (outcome.summary, outcome.browse) if part)


if __name__ == "__main__":
    raise SystemExit(main())
