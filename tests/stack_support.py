"""Fixtures and readers shared by the integration and end-to-end tiers: a LocalStack built from template.yaml."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from email import policy
from typing import Any

import boto3
import pytest

from npsloop_local.stack import LocalStack
from tests.conftest import ROOT

LINK = re.compile(r"https?://[^\s]+/r/([A-Za-z0-9._-]+)\?score=(\d+)")
UNSUBSCRIBE = re.compile(r"/u/([A-Za-z0-9._-]+)>")


@pytest.fixture
def stack(clock, tmp_path) -> Iterator[LocalStack]:
    """The stack of template.yaml, with IAM enforced; a test fails if any function was denied a call.

    A denial the app swallowed (a 500 page, a parked record) would otherwise pass unnoticed. A test
    that expects one takes it off ``stack.authorizer.denied``.
    """
    with LocalStack(template_path=ROOT / "template.yaml", clock=clock, outbox_dir=tmp_path / "outbox") as running:
        yield running
        assert running.authorizer is not None
        assert not running.authorizer.denied, "IAM denied calls: " + "; ".join(map(str, running.authorizer.denied))


class Table:
    """Reads the stack's table the way a person inspecting it would."""

    def __init__(self, stack: LocalStack) -> None:
        self.name = stack.outputs["TableName"]
        self.client = boto3.client("dynamodb")

    def items(self, entity: str | None = None) -> list[dict[str, Any]]:
        items = self.client.scan(TableName=self.name, ConsistentRead=True)["Items"]
        return [i for i in items if entity is None or i.get("entity", {}).get("S") == entity]

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self.client.get_item(TableName=self.name, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")


@pytest.fixture
def table(stack) -> Table:
    return Table(stack)


def sent_emails(stack: LocalStack) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in stack.outbox]


def tokens_in(message: email.message.EmailMessage) -> tuple[dict[int, str], str]:
    """The response token per score, and the unsubscribe token, from a sent email."""
    text = message.get_body(("plain",)).get_content()
    links = {int(score): token for token, score in LINK.findall(text)}
    unsubscribe = UNSUBSCRIBE.search(str(message["List-Unsubscribe"]))
    assert unsubscribe is not None
    return links, unsubscribe.group(1)
