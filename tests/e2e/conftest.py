"""End-to-end fixtures: the local stack over HTTP on 127.0.0.1 and its event bus."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.conftest import EVENTS
from tests.stack_support import stack, table

__all__ = ["stack", "table"]

CHROMIUM = os.environ.get("NPSLOOP_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def entries(stack) -> list[dict[str, Any]]:
    """The documented put-events example, aimed at this stack's bus."""
    sample = json.loads((EVENTS / "put-events" / "order-completed.json").read_text(encoding="utf-8"))
    return [{**entry, "EventBusName": stack.outputs["EventBusName"]} for entry in sample["Entries"]]


def http(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode("utf-8")
