"""EventBridge rules that target functions: pattern matching and the event envelope.

Rules come from ``EventBridgeRule`` events of the template's functions. They are also created in
moto (without targets, which moto cannot invoke) so ``events.list_rules`` shows them. When
EventBridge accepts an entry - through ``stack.put_events`` or any boto3 ``put_events`` call - the
router builds the envelope Lambda receives and matches it against each rule of that bus with moto's
``EventPattern`` (a library's matcher, not ours). Matching rules invoke their function
asynchronously.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.events.models import EventPattern

from .clock import Clock
from .functions import LambdaFunction

__all__ = ["EventBridgeRouter", "EventRule", "bus_name_of", "iso_seconds"]

log = logging.getLogger(__name__)


def bus_name_of(name_or_arn: str | None) -> str:
    """A bus name from what PutEvents accepts (a name, an ARN or nothing for ``default``)."""
    if not name_or_arn:
        return "default"
    return name_or_arn.split("/")[-1] if name_or_arn.startswith("arn:") else name_or_arn


def iso_seconds(instant: datetime) -> str:
    """``2024-05-01T12:00:00Z``: EventBridge's ``time`` format."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class EventRule:
    """One rule: a pattern on a bus, targeting a function."""

    name: str
    bus_name: str
    pattern: dict[str, Any]
    function: LambdaFunction
    input_path: str | None = None
    constant_input: str | None = None
    retry_policy: dict[str, Any] = field(default_factory=dict)
    dead_letter_arn: str | None = None
    """EventBridge's own DLQ: used only when delivery to the target fails, which never happens here."""

    def __post_init__(self) -> None:
        self._matcher = EventPattern.load(json.dumps(self.pattern))

    def matches(self, envelope: dict[str, Any]) -> bool:
        return self._matcher.matches_event(envelope)

    def target_payload(self, envelope: dict[str, Any]) -> Any:
        if self.constant_input is not None:
            return json.loads(self.constant_input)
        if self.input_path:
            return _json_path(envelope, self.input_path)
        return envelope


def _json_path(document: Any, path: str) -> Any:
    """The simple ``$.a.b`` paths InputPath allows."""
    node = document
    for part in path.removeprefix("$").strip(".").split("."):
        if part:
            node = node[part]
    return node


@dataclass
class EventBridgeRouter:
    """Routes accepted PutEvents entries to the functions whose rules match."""

    clock: Clock
    account_id: str
    region: str
    submit: Callable[[LambdaFunction, Any], None]
    rules: list[EventRule] = field(default_factory=list)

    def on_accepted(self, account_id: str, region: str, entries: list[dict[str, Any]]) -> None:
        """moto accepted these entries (each has its EventId): deliver them."""
        if (account_id, region) != (self.account_id, self.region):
            return
        for entry in entries:
            self.route(bus_name_of(entry.get("EventBusName")), self.envelope(entry))

    def envelope(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The event as EventBridge delivers it to a target."""
        return {
            "version": "0",
            "id": entry["EventId"],
            "detail-type": entry["DetailType"],
            "source": entry["Source"],
            "account": self.account_id,
            "time": iso_seconds(self._event_time(entry.get("Time"))),
            "region": self.region,
            "resources": list(entry.get("Resources") or []),
            "detail": json.loads(entry["Detail"]),
        }

    def _event_time(self, given: Any) -> datetime:
        if given is None or given == "":
            return self.clock.now()
        if isinstance(given, datetime):
            return given
        if isinstance(given, int | float) or str(given).replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(given), UTC)
        return datetime.fromisoformat(str(given).replace("Z", "+00:00"))

    def route(self, bus: str, envelope: dict[str, Any]) -> list[EventRule]:
        matched = [rule for rule in self.rules if rule.bus_name == bus and rule.matches(envelope)]
        for rule in matched:
            log.info("event %s matched rule %s -> %s", envelope["id"], rule.name, rule.function.logical_id)
            self.submit(rule.function, rule.target_payload(envelope))
        if not matched:
            log.info("event %s (%s) matched no rule on bus %s", envelope["id"], envelope["detail-type"], bus)
        return matched
