"""`make demo --quick`: history imported, then the live loop, and a summary reporting every part of it."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from npsloop.domain.statistics import DEFAULT_MINIMUM_SAMPLE
from npsloop_local import demo, population
from tests.e2e.test_local_command import local_command
from tests.web_client import WebClient


@pytest.fixture(scope="module")
def quick(tmp_path_factory) -> tuple[demo.Outcome, Path]:
    """The demo's small version, run once for this module: a short history imported, then a week live."""
    work = tmp_path_factory.mktemp("demo")
    outcome = demo._run(demo.QUICK, workers=2, outbox=work / "outbox", quiet=True, state_dir=work / "state")
    return outcome, work


def test_the_quick_demo_imports_history_runs_the_loop_and_summarises_both(quick):
    # GIVEN the demo's small version: a short history imported, then a week of live traffic
    outcome, tmp_path = quick
    stats, summary = outcome.stats, outcome.summary

    def number(label: str) -> float:
        found = re.search(rf"^{re.escape(label)}\s+(\d+(?:\.\d+)?)", summary, re.MULTILINE)
        assert found, f"no {label!r} line in the summary:\n{summary}"
        return float(found.group(1))

    def section(title: str) -> list[str]:
        lines = summary.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith(title))
        end = next((i for i in range(start + 2, len(lines)) if not lines[i].strip()), len(lines))
        return lines[start + 2 : end]

    # THEN the whole export was imported through the import CLI's code, with its throughput
    assert number("answers imported") == demo.QUICK.history
    assert number("import throughput") > 0
    header = re.search(
        r"^History: a Delighted export of (\d+) NPS answers .*, (\d+) unsubscribes, (\d+) bounces", summary, re.M
    )
    assert header and int(header.group(1)) == demo.QUICK.history
    stops = int(header.group(2)) + int(header.group(3))
    assert stops > 0 and number("suppressions imported from Delighted") == stops
    assert re.search(rf"^\s+total\s+\d+\s+{demo.QUICK.history + stops}\s+\d+\s+0$", summary, re.MULTILINE)

    # AND the live weeks went through the bus, emails and HTTP, and nothing was lost
    assert stats.events_put > 100 and stats.failed_entries == 0
    assert number("responses stored") == stats.responses_posted - stats.answers_changed > 0
    assert number("invitations sent") > 0
    assert number("invalid events parked in the DLQ") >= 1  # the population includes malformed events
    assert number("records parked by stream consumers") == 0
    assert number("delivery reports parked") == 0
    assert re.search(r"post-purchase-nps \d{4}-\d{2}\s+\d+\s+-?\d+\s+95% CI \[", summary)

    # AND stores are ranked by NPS only where the sample suffices; small samples are listed apart
    ranking = section("Stores, NPS over")
    ranked = [re.search(r"^\s+\d+\. (\S+)\s+NPS\s+([+-]?[\d.]+).*n=(\d+)", line) for line in ranking]
    ranked = [(m.group(1), float(m.group(2)), int(m.group(3))) for m in ranked if m]
    apart_at = next(i for i, line in enumerate(ranking) if "not ranked" in line)
    apart = [re.search(r"^\s+(\S+)\s+(?:no answers|NPS .*n=(\d+))", line) for line in ranking[apart_at + 1 :]]
    apart = [(m.group(1), int(m.group(2) or 0)) for m in apart if m]
    assert len(ranked) >= 5 and all(n >= DEFAULT_MINIMUM_SAMPLE for _, _, n in ranked)
    assert [score for _, score, _ in ranked] == sorted((score for _, score, _ in ranked), reverse=True)
    assert apart and all(n < DEFAULT_MINIMUM_SAMPLE for _, n in apart)
    assert {"EDI-01", "GLA-01"} <= {store for store, _ in apart}  # the two tiny shops
    assert len(ranked) + len(apart) == len(population.STORES) + 2  # and the two online shops

    # AND KRK-02's live week is a significant drop against its own history; no steady store moved
    drop = section(f"{population.DETERIORATING_STORE} against its own baseline")
    assert re.search(r"baseline, before .*n=(\d{2,})", drop[0]) and re.search(r"live weeks, from .*n=\d{2,}", drop[1])
    assert re.search(r"change -\d+\.\d points \(z -[\d.]+\): significant drop at 5%", drop[2]), drop
    assert drop[3].endswith("significant changes: none"), drop
    assert section(f"{population.DETERIORATING_STORE}, week by week")

    # AND the scheduled reports of its weeks went out: weekly to store managers, monthly to regions and management
    sent = dict(re.findall(r"^\s+([a-z-]+)\s+(\d+) sent", "\n".join(section("Scheduled reports")), re.M))
    assert {"store-weekly", "region-monthly", "management-monthly"} <= set(sent) and all(
        int(n) > 0 for n in sent.values()
    )
    # AND the comments came out with themes: the top themes of detractors per program
    themes = section("What detractors' comments were about")
    assert themes[0].strip().startswith("post-purchase-nps:") and "analysed detractor comments" in themes[0]

    # AND the sections kept from the live-only demo still report
    assert number("alerts fired") > 0
    assert number("cases opened") > 0
    assert number("addresses suppressed") >= 0
    assert re.search(r"s3://\S+/responses/dt=\.\.\./\s+\d+ objects", summary)
    assert re.search(r"\.\.\. \d+ rows in all", summary)  # the named query ran in DuckDB
    assert len(list((tmp_path / "outbox").glob("*.eml"))) >= number("invitations sent")  # and notices to staff
    assert re.search(r"^finished in \d+\.\d s", summary, re.MULTILINE)


def test_the_demo_ends_with_where_to_browse_it_and_its_saved_data_serves_that_page(quick, tmp_path):
    outcome, work = quick
    printed = demo.report(outcome)

    # THEN make demo ends by printing the command, the page's local URL and the personas to sign in as
    tail = printed[printed.index("Browse the demo's data") :]
    assert "make local DEMO=1" in tail
    url = re.search(r"then open (http://127\.0\.0\.1:3000(/\S*))$", tail, re.MULTILINE)
    assert url, tail
    for label in ("CX lead", "Store manager KRK-02", "Regional manager malopolskie", "Analyst"):
        assert re.search(rf"^    {re.escape(label)}", tail, re.MULTILINE), label

    # WHEN `make local DEMO=1` starts on the saved data (on a free port instead of 3000)
    with local_command(tmp_path, "--demo-data", "--state", str(work / "state"), aws=False) as (_p, banner, base, _a):
        # AND the CX lead follows the printed URL and signs in
        browser = WebClient(base)
        page = browser.sign_in("cx-lead", start=urlsplit(url.group(1)).path)
        # AND an analyst's token reads the score API, with its default window (the last days before "now")
        token = _token(base, banner)
        history = _scores(base, token, f"from={demo.QUICK.history_start.date()}&to={demo.QUICK.live_start.date()}")
        recent = _scores(base, token, f"from={demo.QUICK.live_start.date()}")  # up to the default "to": today

    # THEN the page answers as printed, and shows the demo's cases (the staff worked some, others wait)
    assert page.status == 200 and urlsplit(page.url).path == url.group(2)
    assert re.findall(r'href="/cases/[a-z0-9]+"', page.body), page.body[:2000]
    assert "No cases here." not in page.body
    # AND the score API counts every imported answer of the history
    assert history["groups"][0]["total"]["n"] == demo.QUICK.history
    # AND the clock carries on from the demo's end (the month's reports, on the 1st), so "today" closes the
    # window that holds the live weeks' answers
    assert date.fromisoformat(recent["to"]) >= demo.LIVE_END.date() - timedelta(days=1)
    assert recent["groups"][0]["total"]["n"] > 0


def _token(base: str, banner: str) -> str:
    found = re.search(r"^\s+TOKEN=(\S+)$", banner, re.MULTILINE)
    assert found, banner
    return found.group(1)


def _scores(base: str, token: str, query: str) -> dict:
    request = urllib.request.Request(f"{base}/api/programs/post-purchase-nps/scores?{query}")
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


@pytest.mark.browser
def test_a_report_the_demo_sent_reads_on_a_phone(quick, browser):
    """One of the demo's own scheduled reports (the outbox's .eml), opened as a mail client shows it."""
    from email import message_from_bytes, policy

    from tests.e2e.test_email_layout_browser import ARTIFACTS, check_layout
    from tests.e2e.test_report_email_browser import CID, open_report

    _, work = quick
    reports = []
    for path in sorted((work / "outbox").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if any(part["Content-ID"] for part in message.walk()):  # reports carry their charts inline
            reports.append(message)
    assert reports, "the demo sent no scheduled report"
    message = reports[0]
    html = message.get_body(("html",)).get_content()
    images = {p["Content-ID"].strip("<>"): p.get_content() for p in message.walk() if p["Content-ID"]}
    assert images and len(CID.findall(html)) >= len(images)

    # numbers and codes as people read them: "0,5 godz.", "zachowanie personelu", never "0.5 godz." or "staff_behaviour"
    assert not re.search(r"\d\.\d (godz\.|h)<", html) and not re.search(
        r"\b[a-z]+_[a-z_]+\b", html.split("<body", 1)[1]
    )
    page = open_report(browser, html, images, 375, True)
    check_layout(page, 375)
    assert all(page.evaluate("[...document.images].map(i => i.naturalWidth > 0)"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-report-375.png"), full_page=True)
    page.close()
