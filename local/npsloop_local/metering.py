"""Counts the AWS API calls the app makes, and estimates DynamoDB capacity units, for the benchmarks.

Hooks botocore's event system on boto3's default session (the one the adapters use), so it must be
installed after LocalStack.start() (which gives boto3 a fresh default session and resets the app's
cached clients) and before the first invocation builds them.
Capacity follows DynamoDB's published rules: a write unit per started 1 KB of the item written
(twice that inside a transaction), a strongly consistent read unit per started 4 KB (half for an
eventually consistent read). Item sizes are computed from the attributes sent or returned.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from typing import Any

import boto3


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values, in bytes (wire format)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        digits = len(content.strip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(content)
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in content.items())
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in content)
    if kind in {"SS", "NS", "BS"}:
        return sum(len(str(v).encode()) for v in content)
    return 0


class AwsMeter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.write_units = 0.0
        self.read_units = 0.0
        self.items_read = 0  # items a Query or Scan read (ScannedCount: what DynamoDB bills)
        self._lock = threading.Lock()
        self._events = boto3._get_default_session().events

    def install(self) -> AwsMeter:
        self._events.register("before-parameter-build", self._remember_params, unique_id="npsloop-meter-params")
        self._events.register("after-call", self._after_call, unique_id="npsloop-meter")
        return self

    def uninstall(self) -> None:
        self._events.unregister("before-parameter-build", unique_id="npsloop-meter-params")
        self._events.unregister("after-call", unique_id="npsloop-meter")

    @staticmethod
    def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["npsloop_meter_params"] = dict(params)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.write_units = self.read_units = 0.0
            self.items_read = 0

    def snapshot(self) -> tuple[Counter[str], float, float]:
        with self._lock:
            return Counter(self.calls), self.write_units, self.read_units

    def _after_call(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        params = context.get("npsloop_meter_params", {})
        service = model.service_model.service_name
        name = f"{service}:{model.name}"
        writes, reads = _capacity(model.name, params, parsed) if service == "dynamodb" else (0.0, 0.0)
        with self._lock:
            self.calls[name] += 1
            self.write_units += writes
            self.read_units += reads
            if service == "dynamodb" and model.name in {"Query", "Scan"} and "Error" not in parsed:
                self.items_read += int(parsed.get("ScannedCount", len(parsed.get("Items", []))))


def _write_units(item: dict[str, Any] | None) -> float:
    return float(max(1, math.ceil(item_size(item or {}) / 1024)))


def _read_units(item: dict[str, Any] | None, consistent: bool) -> float:
    units = max(1, math.ceil(item_size(item or {}) / 4096))
    return float(units if consistent else units / 2)


def _capacity(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> tuple[float, float]:
    if "Error" in parsed:
        return 0.0, 0.0
    if operation == "PutItem":
        return _write_units(params["Item"]), 0.0
    if operation == "UpdateItem":
        # The unit count is set by the larger of the item before and after; ALL_NEW/UPDATED_NEW give a lower bound.
        return _write_units(parsed.get("Attributes") or params.get("Key")), 0.0
    if operation == "DeleteItem":
        return 1.0, 0.0
    if operation == "TransactWriteItems":
        units = 0.0
        for entry in params["TransactItems"]:
            ((_kind, body),) = entry.items()
            units += _write_units(body.get("Item") or body.get("Key"))
        return 2 * units, 0.0
    if operation in {"Query", "Scan"}:
        # Charged on the size of the items read, per 4 KB; with a FilterExpression this (the items
        # returned) is a lower bound.
        size = sum(item_size(item) for item in parsed.get("Items", []))
        units = max(1, math.ceil(size / 4096))
        return 0.0, float(units if params.get("ConsistentRead") else units / 2)
    if operation == "GetItem":
        return 0.0, _read_units(parsed.get("Item"), bool(params.get("ConsistentRead")))
    if operation == "BatchGetItem":
        reads = 0.0
        for table, items in parsed.get("Responses", {}).items():
            consistent = bool(params["RequestItems"].get(table, {}).get("ConsistentRead"))
            reads += sum(_read_units(item, consistent) for item in items)
            missing = len(params["RequestItems"].get(table, {}).get("Keys", [])) - len(items)
            reads += missing * (1.0 if consistent else 0.5)
        return 0.0, reads
    return 0.0, 0.0
