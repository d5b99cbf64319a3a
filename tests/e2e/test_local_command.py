"""`make local` (python -m npsloop_local): a running stack that the AWS SDK and a browser can drive."""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from npsloop.clock import ManualClock
from npsloop_local import demo_state
from npsloop_local.__main__ import EMPTY_NOTICE
from npsloop_local.stack import LocalStack
from tests.conftest import EVENTS, ROOT
from tests.web_client import WebClient


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def lines_until(process: subprocess.Popen, marker: str) -> Iterator[str]:
    assert process.stdout is not None
    for line in process.stdout:  # ends when the process does (the test's timeout bounds it)
        yield line
        if marker in line:
            return
    raise AssertionError(f"the local stack exited before printing {marker!r}")


@contextlib.contextmanager
def local_command(tmp_path: Path, *extra: str, aws: bool = True) -> Iterator[tuple[subprocess.Popen, str, str, str]]:
    """``python -m npsloop_local`` (``make local``) on free ports: (process, printed banner, HTTP URL, AWS URL)."""
    http_port, aws_port = free_port(), free_port() if aws else 0
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "npsloop_local",
            "--port",
            str(http_port),
            "--aws-port",
            str(aws_port),
            "--outbox",
            str(tmp_path / "outbox"),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = "".join(lines_until(process, "Serving; Ctrl-C to stop."))
        yield process, banner, f"http://127.0.0.1:{http_port}", f"http://127.0.0.1:{aws_port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def local_stack(tmp_path):
    with local_command(tmp_path) as (process, _banner, base_url, aws_url):
        yield process, base_url, aws_url, tmp_path / "outbox"


def test_an_event_put_with_the_aws_sdk_becomes_an_email_whose_link_opens(local_stack):
    process, base_url, aws_url, outbox = local_stack
    events = boto3.client(
        "events",
        endpoint_url=aws_url,
        region_name="eu-west-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    entries = json.loads((EVENTS / "put-events" / "order-completed.json").read_text(encoding="utf-8"))["Entries"]

    result = events.put_events(Entries=entries)
    list(lines_until(process, "email sent: "))  # printed once the email is in the outbox

    assert result["FailedEntryCount"] == 0
    (sent,) = outbox.glob("*.eml")
    token = sent.read_text(encoding="utf-8").split("/r/")[1].split("?")[0]
    with urllib.request.urlopen(f"{base_url}/r/{token}?score=9") as page:
        assert page.status == 200
        assert 'value="9" checked' in page.read().decode()


def test_make_local_alone_starts_empty_and_says_how_to_get_data(tmp_path):
    # GIVEN `make local` without DEMO=1
    with local_command(tmp_path, aws=False) as (_process, banner, base_url, _aws):
        # WHEN a newcomer follows the sign-in the terminal prints
        login = WebClient(base_url).go("/cases")

    # THEN the terminal and the first page they see both say the stack is empty and how to fill it
    assert "The stack starts empty" in banner and "make local DEMO=1" in banner
    assert "/login?" in login.url and login.status == 200
    assert html.escape(EMPTY_NOTICE) in login.body


def test_make_local_with_demo_data_serves_the_saved_tables_on_the_saved_clock(tmp_path):
    # GIVEN a stack that answered once, at an instant of the past, saved as make demo saves its data
    ended = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)
    with LocalStack(ROOT / "template.yaml", clock=ManualClock(ended), outbox_dir=tmp_path / "first") as first:
        table = first.outputs["TableName"]
        first.client("dynamodb").put_item(
            TableName=table, Item={"pk": {"S": "SEEN#demo"}, "sk": {"S": "STATE"}, "note": {"S": "kept"}}
        )
        saved = demo_state.save(first, tmp_path / "state")
    assert saved.ended_at == ended and saved.items == 1

    # WHEN `make local DEMO=1` starts on it
    with local_command(tmp_path, "--demo-data", "--state", str(tmp_path / "state")) as (_p, banner, base_url, aws):
        dynamodb = boto3.client(
            "dynamodb", endpoint_url=aws, region_name="eu-west-1", aws_access_key_id="l", aws_secret_access_key="l"
        )
        (name,) = [t for t in dynamodb.list_tables()["TableNames"] if t == _table_name(banner)]
        kept = dynamodb.get_item(TableName=name, Key={"pk": {"S": "SEEN#demo"}, "sk": {"S": "STATE"}}).get("Item")
        login = WebClient(base_url).go("/cases")

    # THEN the item is there, the clock carries on from the saved instant, and no empty-stack notice shows
    assert kept == {"pk": {"S": "SEEN#demo"}, "sk": {"S": "STATE"}, "note": {"S": "kept"}}
    assert "Started on the demo's data (1 items" in banner
    assert "demo ended (2026-11-23 07:30 UTC, now 2026-11-23 07:3" in banner
    assert "The stack starts empty" not in banner
    assert login.status == 200 and html.escape(EMPTY_NOTICE) not in login.body


def test_make_local_with_demo_data_but_none_saved_says_to_run_the_demo(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "npsloop_local", "--demo-data", "--state", str(tmp_path / "none"), "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "no demo data in" in result.stderr and "run `make demo` first" in result.stderr


def _table_name(banner: str) -> str:
    found = re.search(r'"TableName": "([^"]+)"', banner)
    assert found, banner
    return found.group(1)
