"""Shared fixtures: the sample events in events/ and a manual clock."""

from __future__ import annotations

import os

# What every deployed function gets from template.yaml's Globals; set before npsloop is imported.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "npsloop")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "npsloop")

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from npsloop.clock import ManualClock

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"


def load_event(name: str, **replacements: str) -> dict[str, Any]:
    """A sample payload from events/, with {{placeholders}} filled in."""
    text = (EVENTS / name).read_text(encoding="utf-8")
    for key, value in replacements.items():
        text = text.replace("{{" + key + "}}", value)
    return json.loads(text)


@pytest.fixture
def event() -> Callable[..., dict[str, Any]]:
    return load_event


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 20, 10, 30, tzinfo=UTC))
