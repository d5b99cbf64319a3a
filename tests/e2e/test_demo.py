"""`make demo`'s simulation, small: the whole loop runs and the summary reports every part of it."""

from __future__ import annotations

import re
from pathlib import Path

from npsloop_local import demo


def test_a_small_demo_runs_the_whole_loop_and_summarises_it(tmp_path: Path):
    # GIVEN a small population over two weeks (the demo's own code, with fewer customers and days)
    outcome = demo._run(customers=120, days=14, workers=2, outbox=tmp_path / "outbox", quiet=True)
    stats, summary = outcome.stats, outcome.summary

    # THEN events went in, people answered over HTTP, and nothing was lost on the bus
    assert stats.events_put > 100 and stats.failed_entries == 0
    assert stats.responses_posted > 0

    # AND the summary reports each part of the loop, with numbers
    def number(label: str) -> int:
        found = re.search(rf"^{re.escape(label)}\s+(\d+)", summary, re.MULTILINE)
        assert found, f"no {label!r} line in the summary:\n{summary}"
        return int(found.group(1))

    assert number("invitations sent") > 0
    assert number("responses stored") == stats.responses_posted - stats.answers_changed
    assert number("invalid events parked in the DLQ") >= 1  # the population includes malformed events
    assert number("records parked by stream consumers") == 0
    assert number("delivery reports parked") == 0
    assert re.search(r"post-purchase-nps \d{4}-\d{2}\s+\d+\s+-?\d+\s+95% CI \[", summary)
    assert "Best and worst stores" in summary
    assert re.search(r"^  from \d{4}-\d{2}-\d{2}\s+(NPS|no answers)", summary, re.MULTILINE)  # the deteriorating store
    assert number("alerts fired") > 0
    assert number("cases opened") > 0
    assert "addresses suppressed" in summary
    assert re.search(r"s3://\S+/responses/dt=\.\.\./\s+\d+ objects", summary)
    assert re.search(r"\.\.\. \d+ rows in all", summary)  # the named query ran in DuckDB
    assert len(list((tmp_path / "outbox").glob("*.eml"))) >= number("invitations sent")  # and notices to staff
