"""`make local` (python -m npsloop_local): a running stack that the AWS SDK and a browser can drive."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import boto3
import pytest

from tests.conftest import EVENTS, ROOT


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


@pytest.fixture
def local_stack(tmp_path):
    http_port, aws_port = free_port(), free_port()
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
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        list(lines_until(process, "Serving; Ctrl-C to stop."))
        yield process, f"http://127.0.0.1:{http_port}", f"http://127.0.0.1:{aws_port}", tmp_path / "outbox"
    finally:
        process.terminate()
        process.wait(timeout=20)


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
