"""Part of a long job in a forked copy of the local stack, merged back: the demo's history on two cores.

The in-process stack uses one core: moto and the handlers share one interpreter lock. The demo's
history is a year of answers that an operator would import as several files at once, each file by
its own import process writing to the one table while the stream consumers keep up. Here,
:func:`fork` runs such a part in a child process that starts as an exact copy of the running stack
(``os.fork``: its tables, buckets, queues, secrets and clock). The child does the work as the stack
always does - the import CLI's code, then the stream consumers over what it wrote - and hands back
what it added: the tables' new or changed items, the buckets' new objects, the queues' new messages
and its function logs. :meth:`Forked.join` puts them into the parent's stack without a stream
record (the consumers already ran on them, in the child), as ``make local DEMO=1`` loads saved items.

On AWS the parts would write to one table; here each has its own copy, so the parts must not write
the same item: the caller splits the work so they cannot (the demo splits the history at a UTC
midnight, the day aggregates' unit), and the merge refuses an item both sides wrote differently.

The fork happens while the stack's threads are idle (the HTTP server waits in ``select``; Lambda's
async invocations start their thread pool per run), so the child, which has only the forking thread,
finds no lock held. Linux only: elsewhere :func:`fork` returns None and the caller runs the part itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import function_logs, moto_peek, moto_pickle, moto_query
from .demo_state import moto_table

if TYPE_CHECKING:
    from .stack import LocalStack

__all__ = ["ConflictingItem", "Forked", "fork"]

T = TypeVar("T")
TABLE = "AWS::DynamoDB::Table"
BUCKET = "AWS::S3::Bucket"
QUEUE = "AWS::SQS::Queue"


class ConflictingItem(Exception):
    """Both processes wrote the same item differently: the work was not split as it must be."""


@dataclass
class _Changes:
    items: dict[str, list[Any]]  # table logical id -> moto items new or changed in the child
    objects: dict[str, dict[str, tuple[bytes, str | None]]]  # bucket -> key -> (bytes, type), new or changed
    messages: dict[str, list[tuple[str, dict[str, Any]]]]  # queue logical id -> (body, attributes)


@dataclass
class Forked(Generic[T]):
    """A running child; :meth:`join` waits for it, merges what it added and returns its result."""

    pid: int
    scratch: Path

    def join(self, stack: LocalStack, timeout_s: float = 900.0) -> T:
        """Wait for the child (killing it after ``timeout_s``), then merge what it added into ``stack``."""
        status = self._wait(timeout_s)
        outcome_path = self.scratch / "outcome.pickle"
        if not outcome_path.is_file():
            raise RuntimeError(f"the forked part ended without an outcome (wait status {status})")
        with outcome_path.open("rb") as source:
            outcome = moto_pickle.load(source)  # written by our own child, just now
        if "error" in outcome:
            raise RuntimeError(f"the forked part failed:\n{outcome['error']}")
        _apply(stack, outcome["changes"])
        function_logs.absorb(self.scratch / "logs")
        shutil.rmtree(self.scratch, ignore_errors=True)  # the fork's own: its outcome is taken
        return outcome["result"]  # type: ignore[no-any-return]

    def _wait(self, timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return status
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                raise RuntimeError(f"the forked part did not finish within {timeout_s:.0f} s; it was stopped")
            time.sleep(0.02)


def fork(stack: LocalStack, work: Callable[[], T], scratch: Path) -> Forked[T] | None:
    """Start ``work()`` in a forked copy of this process and its stack; None where that is not possible.

    ``scratch`` is a directory of the fork's own (its outcome and logs), removed once joined."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return None
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "outcome.pickle").unlink(missing_ok=True)
    function_logs.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    with warnings.catch_warnings():
        # Python 3.12+ warns of fork() in a process with threads: ours are idle at this point (above).
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        return Forked(pid, scratch)
    code = 1
    try:  # the child: never returns to the caller's code
        _reseed_moto()
        _own_shards(stack)
        function_logs.reroute(scratch / "logs")
        base = _Base.of(stack)
        result = work()
        _write(scratch, {"result": result, "changes": base.changes(stack)})
        code = 0
    except BaseException:  # everything goes back to the parent, which raises it
        _write(scratch, {"error": traceback.format_exc()})
    finally:
        function_logs.flush()
        os._exit(code)


def _reseed_moto() -> None:
    """moto draws its ids (stream event ids, message ids...) from one ``random.Random`` of its own, which
    the fork copied state and all: unseeded, the child would draw the parent's very ids. (The ``random``
    module's own generator, and ``uuid4``'s ``os.urandom``, are fresh in a child already.)"""
    from moto.moto_api._internal import mock_random

    mock_random.seed()


def _own_shards(stack: LocalStack) -> None:
    """The child's stream records go to a shard of its own, as two processes' records would on AWS.

    The fork copied moto's stream shard, its id and sequence numbers with it, so both processes would
    hand out the same shard id and sequence numbers to different records, and the score function's
    journal entries and checkpoints, named by them, would collide in the merge. The stream consumers'
    checkpoints and open windows move to the new id."""
    for logical_id in stack.template.resources_of_type(TABLE):
        shard = getattr(moto_table(stack, logical_id), "stream_shard", None)
        if shard is None:
            continue
        old, shard.id = shard.id, f"{shard.id.rsplit('-', 1)[0]}-{os.getpid() & 0xFFFFFFFF:08x}"
        for consumer in stack.dispatcher.streams:
            consumer.rename_shard(old, shard.id)


def _write(scratch: Path, outcome: dict[str, Any]) -> None:
    partial = scratch / "outcome.pickle.part"
    with partial.open("wb") as out:
        moto_pickle.dump(outcome, out)
    partial.replace(scratch / "outcome.pickle")


def _where(stack: LocalStack) -> tuple[str, str]:
    return stack.dispatcher.resolver.account_id, stack.region


def _items(stack: LocalStack, logical_id: str) -> list[Any]:
    return moto_peek.every_item(moto_table(stack, logical_id))


def _queue_name(stack: LocalStack, logical_id: str) -> str:
    return str(stack.attribute(logical_id, "QueueName"))


@dataclass
class _Base:
    """What the child's copy held when it started, to tell what its work added."""

    items: dict[str, dict[tuple[Any, Any], Any]]
    objects: dict[str, dict[str, bytes]]

    @classmethod
    def of(cls, stack: LocalStack) -> _Base:
        account_id, region = _where(stack)
        items = {
            logical_id: {
                (i.hash_key, i.range_key): i.to_json() for i in moto_peek.every_item(moto_table(stack, logical_id))
            }
            for logical_id in stack.template.resources_of_type(TABLE)
        }
        objects = {
            logical_id: moto_peek.bucket_objects(account_id, stack.physical_id(logical_id)) or {}
            for logical_id in stack.template.resources_of_type(BUCKET)
        }
        for logical_id in stack.template.resources_of_type(QUEUE):  # the parent keeps these
            moto_peek.take_message_records(account_id, region, _queue_name(stack, logical_id))
        return cls(items, objects)

    def changes(self, stack: LocalStack) -> _Changes:
        account_id, region = _where(stack)
        items: dict[str, list[Any]] = {}
        for logical_id, before in self.items.items():
            items[logical_id] = [
                item
                for item in _items(stack, logical_id)
                if (key := (item.hash_key, item.range_key)) not in before or before[key] != item.to_json()
            ]
        objects = {}
        for logical_id, before_objects in self.objects.items():
            name = stack.physical_id(logical_id)
            now, types = moto_peek.bucket_objects(account_id, name) or {}, moto_peek.object_types(account_id, name)
            objects[logical_id] = {k: (v, types.get(k)) for k, v in now.items() if before_objects.get(k) != v}
        messages = {
            logical_id: moto_peek.take_message_records(account_id, region, _queue_name(stack, logical_id)) or []
            for logical_id in stack.template.resources_of_type(QUEUE)
        }
        return _Changes(items, objects, messages)


def _apply(stack: LocalStack, changes: _Changes) -> None:
    for logical_id, items in changes.items.items():
        table = moto_table(stack, logical_id)
        for item in items:
            _put(table, item)
        if items:
            moto_query.forget(table)  # its index of attribute values never saw these items
    s3 = stack.client("s3")
    for logical_id, objects in changes.objects.items():
        for key, (body, content_type) in objects.items():
            typed = {"ContentType": content_type} if content_type else {}
            s3.put_object(Bucket=stack.physical_id(logical_id), Key=key, Body=body, **typed)
    sqs = stack.client("sqs")
    for logical_id, messages in changes.messages.items():
        for body, attributes in messages:
            request: dict[str, Any] = {"QueueUrl": stack.physical_id(logical_id), "MessageBody": body}
            if attributes:
                request["MessageAttributes"] = attributes
            sqs.send_message(**request)


def _put(table: Any, item: Any) -> None:
    """Put the child's item into the parent's table; refuse one the parent holds with other content."""
    if table.range_key_attr:
        bucket = table.items.setdefault(item.hash_key, {})
        held = bucket.get(item.range_key)
    else:
        bucket, held = None, table.items.get(item.hash_key)
    if held is not None:
        if held.to_json() == item.to_json():
            return
        raise ConflictingItem(f"both processes wrote {item.hash_key.value}/{getattr(item.range_key, 'value', '')}")
    if bucket is not None:
        bucket[item.range_key] = item
    else:
        table.items[item.hash_key] = item
