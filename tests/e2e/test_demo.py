"""`make demo --quick`: history imported, then the live loop, and a summary reporting every part of it."""

from __future__ import annotations

import re
from pathlib import Path

from npsloop.domain.statistics import DEFAULT_MINIMUM_SAMPLE
from npsloop_local import demo, population


def test_the_quick_demo_imports_history_runs_the_loop_and_summarises_both(tmp_path: Path):
    # GIVEN the demo's small version: a short history imported, then a week of live traffic
    outcome = demo._run(demo.QUICK, workers=2, outbox=tmp_path / "outbox", quiet=True)
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

    # AND the sections kept from the live-only demo still report
    assert number("alerts fired") > 0
    assert number("cases opened") > 0
    assert number("addresses suppressed") >= 0
    assert re.search(r"s3://\S+/responses/dt=\.\.\./\s+\d+ objects", summary)
    assert re.search(r"\.\.\. \d+ rows in all", summary)  # the named query ran in DuckDB
    assert len(list((tmp_path / "outbox").glob("*.eml"))) >= number("invitations sent")  # and notices to staff
    assert re.search(r"^finished in \d+\.\d s", summary, re.MULTILINE)
