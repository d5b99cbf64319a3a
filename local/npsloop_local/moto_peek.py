"""Cheap looks at moto's state, so the drain loop asks moto's API only when there is something to read.

Every ``drain()`` pumps until nothing moves, and each pump used to poll every event source
through boto3: per stream consumer ``DescribeStream`` + ``GetShardIterator`` + ``GetRecords``, per
SNS subscription a ``ReceiveMessage`` - a dozen moto requests (each a few milliseconds of request
and response serialisation) per pump even when nothing happened, thousands of times in the demo.
These functions read moto's in-process backends directly and answer only "is there anything?";
the reading itself still goes through the public API. When a backend cannot be found they answer
``None`` ("don't know"), and the caller polls as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["bucket_objects", "queue_has_messages", "stream_records", "stream_tails", "table_items", "take_messages"]


def _shard(account_id: str, region: str, stream_arn: str) -> Any:
    try:
        from moto.dynamodb.models import dynamodb_backends

        table_name = stream_arn.split(":", 5)[5].split("/")[1]
        table: Any = dynamodb_backends[account_id][region].tables.get(table_name)
    except (ImportError, IndexError, KeyError):
        return None
    return getattr(table, "stream_shard", None) if table is not None else None


def stream_tails(account_id: str, region: str, stream_arn: str) -> dict[str, str | None] | None:
    """Shard id -> sequence number of its last record (None: no record yet), or None if unknown."""
    shard = _shard(account_id, region, stream_arn)
    if shard is None:
        return None
    items = shard.items
    return {shard.id: items[-1].record["dynamodb"]["SequenceNumber"] if items else None}


def stream_records(account_id: str, region: str, stream_arn: str, shard_id: str, after: str | None) -> list[Any] | None:
    """The shard's records after sequence number ``after`` (all of them if None), as moto keeps them.

    Lambda's poller is the service's code, not the app's: reading moto's shard directly gives the
    same records as ``GetShardIterator`` + ``GetRecords`` without two requests per consumer and
    drain. None if the shard cannot be found (the caller then reads through the API).
    """
    shard = _shard(account_id, region, stream_arn)
    if shard is None or shard.id != shard_id:
        return None
    items = list(shard.items)
    if after is None:
        return [item.record for item in items]
    last = int(after)
    start = last - shard.starting_sequence_number + 1
    if 0 < start <= len(items) and int(items[start - 1].record["dynamodb"]["SequenceNumber"]) == last:
        return [item.record for item in items[start:]]
    return [item.record for item in items if int(item.record["dynamodb"]["SequenceNumber"]) > last]


def queue_has_messages(account_id: str, region: str, queue_name: str) -> bool | None:
    """Whether a queue holds any message (visible, delayed or in flight), or None if unknown."""
    try:
        from moto.sqs.models import sqs_backends

        queue: Any = sqs_backends[account_id][region].queues.get(queue_name)
    except (ImportError, KeyError):
        return None
    if queue is None:
        return None
    messages = getattr(queue, "_messages", None)
    return None if messages is None else bool(messages)


def _taken(account_id: str, region: str, queue_name: str, taking: Callable[[Any], bool]) -> list[Any] | None:
    """Remove a queue's messages that ``taking`` picks and return them; None if the queue is unknown."""
    try:
        from moto.sqs.models import sqs_backends

        queue: Any = sqs_backends[account_id][region].queues.get(queue_name)
    except (ImportError, KeyError):
        return None
    lock = getattr(queue, "_messages_lock", None)
    if queue is None or lock is None or not isinstance(getattr(queue, "_messages", None), list):
        return None
    with lock:
        taken = [m for m in queue._messages if taking(m)]
        queue._messages = [m for m in queue._messages if not taking(m)]
    return taken


def take_messages(account_id: str, region: str, queue_name: str) -> list[str] | None:
    """Remove every visible message from a queue and return their bodies; None if unknown.

    For the local SNS subscriptions' own queues: the subscriber is the SNS service, not the app, so
    it need not pay a ReceiveMessage and a DeleteMessage per notification.
    """
    taken = _taken(account_id, region, queue_name, lambda m: m.visible and not m.delayed)
    return None if taken is None else [message.body for message in taken]


def take_message_records(account_id: str, region: str, queue_name: str) -> list[tuple[str, dict[str, Any]]] | None:
    """Remove every message from a queue (visible or not) and return each body with its message
    attributes as SendMessage takes them; None if unknown. For :mod:`.forked`, whose child hands its
    queues' new messages to the parent."""
    taken = _taken(account_id, region, queue_name, lambda _: True)
    if taken is None:
        return None
    return [(message.body, dict(getattr(message, "message_attributes", None) or {})) for message in taken]


def dynamodb_table(account_id: str, region: str, table_name: str) -> Any:
    """moto's table object (its ``items``: hash key -> range key -> item), or None if unknown."""
    try:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[account_id][region].tables.get(table_name)
    except (ImportError, KeyError):
        return None


def every_item(table: Any) -> list[Any]:
    """A moto table's items, as it stores them (unsorted: ``Table.all_items`` sorts them all)."""
    if table.range_key_attr:
        return [item for bucket in table.items.values() for item in bucket.values()]
    return list(table.items.values())


def table_items(
    account_id: str, region: str, table_name: str, keep: Callable[[dict[str, Any]], bool] | None = None
) -> list[dict[str, Any]] | None:
    """Every item of a table, in the shape Scan returns (attribute -> {type: value}); None if unknown.

    For a person's look at a whole table (the demo's summary): a Scan of tens of thousands of items
    costs moto seconds of serialisation for what is only read back here. ``keep`` sees each item's
    top-level attributes as plain values (strings, numbers...) and picks the ones to serialise. The
    kept items come in moto's ``Table.all_items`` order (by key), sorted after ``keep``: moto sorts by
    comparing its typed values, seconds for a whole table of which a few items are kept.
    """
    table = dynamodb_table(account_id, region, table_name)
    if table is None:
        return None
    every = every_item(table)
    kept = [item for item in every if keep is None or keep({name: value.value for name, value in item.attrs.items()})]
    kept.sort(key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)  # as Table.all_items
    return [item.to_json()["Attributes"] for item in kept]


def _bucket(account_id: str, bucket_name: str) -> Any:
    try:
        from moto.s3.models import s3_backends

        return s3_backends[account_id]["aws"].buckets.get(bucket_name)
    except (ImportError, KeyError):
        return None


def bucket_objects(account_id: str, bucket_name: str) -> dict[str, bytes] | None:
    """Every object of a bucket (key -> its current bytes), as GetObject would give them; None if unknown.

    For the demo's summary, which downloads the whole export (hundreds of small objects) to run a
    query on it: a ListObjectsV2 and a GetObject per object cost moto seconds of request handling.
    """
    bucket = _bucket(account_id, bucket_name)
    if bucket is None:
        return None
    return {key.name: key.value for key in bucket.keys.values() if getattr(key, "value", None) is not None}


def object_types(account_id: str, bucket_name: str) -> dict[str, str]:
    """Each object's Content-Type (key -> type), for copying objects with :func:`bucket_objects`."""
    bucket = _bucket(account_id, bucket_name)
    if bucket is None:
        return {}
    types = {key.name: (getattr(key, "metadata", None) or {}).get("Content-Type") for key in bucket.keys.values()}
    return {name: str(kind) for name, kind in types.items() if kind}
