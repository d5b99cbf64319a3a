"""Per-operation latency of the local stack's moto, without and with the speed patches, in one run.

    .venv/bin/python benchmarks/local_stack_ops.py [--items 3000] [--repeat 100]

Starts the local stack on template.yaml (the table with its GSIs and stream, the three stream
consumers, the SNS subscription), preloads ``--items`` items, then times each operation through
boto3 twice: with moto's own code ("moto") and with the patches of npsloop_local.moto_query /
moto_serialize / moto_transactions and the drain's peeks ("patched"). Only the ratio within one
run means anything: this machine's absolute figures move with its load.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "local"))

from npsloop.clock import ManualClock  # noqa: E402
from npsloop_local import moto_query, moto_serialize, moto_transactions  # noqa: E402
from npsloop_local.stack import LocalStack  # noqa: E402


def item(i: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"BENCH#{i}"},
        "sk": {"S": "ITEM"},
        "entity": {"S": "bench"},
        "gsi1pk": {"S": f"GROUP#{i % 500}"},
        "gsi1sk": {"S": f"2026-09-{i % 28 + 1:02d}#{i}"},
        "context": {"M": {"store": {"S": f"s{i % 20}"}, "region": {"S": "north"}}},
        "counts": {"L": [{"N": str(n)} for n in range(11)]},
        "created_at": {"S": "2026-09-01T00:00:00Z"},
    }


def timed(fn: Callable[[int], Any], repeat: int) -> float:
    started = time.perf_counter()
    for i in range(repeat):
        fn(i)
    return (time.perf_counter() - started) / repeat * 1000


def operations(stack: LocalStack, items: int) -> dict[str, Callable[[int], Any]]:
    ddb = stack.client("dynamodb")
    table = stack.outputs["TableName"]
    offset = [items * 10]

    def put(i: int) -> Any:
        offset[0] += 1
        return ddb.put_item(TableName=table, Item=item(offset[0]), ConditionExpression="attribute_not_exists(pk)")

    def transact(i: int) -> Any:
        offset[0] += 1
        return ddb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": item(offset[0]),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                *(
                    {
                        "Update": {
                            "TableName": table,
                            "Key": {"pk": {"S": "BENCHAGG"}, "sk": {"S": f"k{(i + n) % 40}"}},
                            "UpdateExpression": "ADD n :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    }
                    for n in range(8)
                ),
            ]
        )

    return {
        "drain() with nothing to do": lambda i: stack.dispatcher.drain(),
        "GetItem": lambda i: ddb.get_item(TableName=table, Key={"pk": {"S": f"BENCH#{i}"}, "sk": {"S": "ITEM"}}),
        "PutItem (conditional)": put,
        "UpdateItem (ADD + SET)": lambda i: ddb.update_item(
            TableName=table,
            Key={"pk": {"S": "BENCHAGG"}, "sk": {"S": f"k{i % 40}"}},
            UpdateExpression="ADD n :one SET updated_at = :now",
            ExpressionAttributeValues={":one": {"N": "1"}, ":now": {"S": "2026-09-01T00:00:00Z"}},
        ),
        "Query (table partition)": lambda i: ddb.query(
            TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": f"BENCH#{i}"}}
        ),
        "Query (GSI1 partition)": lambda i: ddb.query(
            TableName=table,
            IndexName="GSI1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": {"S": f"GROUP#{i % 500}"}},
        ),
        "TransactWriteItems (1 put + 8 updates)": transact,
    }


def set_patches(stack: LocalStack, on: bool) -> None:
    for module in (moto_query, moto_serialize, moto_transactions):
        (module.install if on else module.uninstall)()
    for consumer, peek in zip(stack.dispatcher.streams, PEEKS, strict=True):
        consumer.peek = peek if on else None
    stack.dispatcher._queue_has_messages = (  # type: ignore[method-assign]
        ORIGINAL_QUEUE_PEEK if on else (lambda queue_name: None)
    )


PEEKS: list[Any] = []
ORIGINAL_QUEUE_PEEK: Any = None


def main() -> int:
    global ORIGINAL_QUEUE_PEEK  # noqa: PLW0603
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    clock = ManualClock(datetime(2026, 9, 1, 8, tzinfo=UTC))
    with LocalStack(
        ROOT / "template.yaml",
        parameters={"LogLevel": "ERROR"},
        clock=clock,
        outbox_dir=ROOT / ".local" / "bench-outbox",
    ) as stack:
        PEEKS.extend(consumer.peek for consumer in stack.dispatcher.streams)
        ORIGINAL_QUEUE_PEEK = stack.dispatcher._queue_has_messages
        ddb = stack.client("dynamodb")
        table = stack.outputs["TableName"]
        for start in range(0, args.items, 25):
            batch = [{"PutRequest": {"Item": item(i)}} for i in range(start, min(start + 25, args.items))]
            ddb.batch_write_item(RequestItems={table: batch})
        stack.drain()  # the consumers read (and filter out) the preload once
        ops = operations(stack, args.items)
        print(f"local stack ops, {args.items} items in the table, mean of {args.repeat} calls (ms):")
        print(f"{'operation':42} {'moto':>9} {'patched':>9} {'ratio':>7}")
        for name, fn in ops.items():
            set_patches(stack, on=False)
            stack.drain()  # (untimed) the consumers catch up with the previous operation's records
            before = timed(fn, args.repeat)
            set_patches(stack, on=True)
            stack.drain()
            after = timed(fn, args.repeat)
            print(f"{name:42} {before:9.2f} {after:9.2f} {before / after:6.1f}x", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
