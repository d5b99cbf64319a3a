"""Shared fixtures: the sample events in events/ and a manual clock."""

from __future__ import annotations

import os

# What every deployed function gets from template.yaml's Globals; set before npsloop is imported.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "npsloop")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "npsloop")
# Every call the local stack's IAM allows is recorded here, for `tools/iam_report.py` (make validate).
os.environ.setdefault("NPSLOOP_IAM_USAGE", os.path.join(os.path.dirname(__file__), "..", ".local", "iam-usage.jsonl"))

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from npsloop.clock import ManualClock

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"


def pytest_configure(config: pytest.Config) -> None:
    """Start the IAM usage record afresh: it describes the last test run (once, before any xdist worker starts:
    the workers append to it)."""
    if not hasattr(config, "workerinput"):
        Path(os.environ["NPSLOOP_IAM_USAGE"]).unlink(missing_ok=True)


def load_event(name: str, **replacements: str) -> dict[str, Any]:
    """A sample payload from events/, with {{placeholders}} filled in."""
    text = (EVENTS / name).read_text(encoding="utf-8")
    for key, value in replacements.items():
        text = text.replace("{{" + key + "}}", value)
    return json.loads(text)


def at_once(copies: int, action: Callable[[], Any]) -> tuple[list[Any], list[Exception]]:
    """Run ``action`` on ``copies`` threads released together; their results and their exceptions."""
    barrier = threading.Barrier(copies)
    results: list[Any] = []
    errors: list[Exception] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(action())
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.fixture
def event() -> Callable[..., dict[str, Any]]:
    return load_event


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 20, 10, 30, tzinfo=UTC))
