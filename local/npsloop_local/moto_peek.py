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

from typing import Any

__all__ = ["queue_has_messages", "stream_tails"]


def stream_tails(account_id: str, region: str, stream_arn: str) -> dict[str, str | None] | None:
    """Shard id -> sequence number of its last record (None: no record yet), or None if unknown."""
    try:
        from moto.dynamodb.models import dynamodb_backends

        table_name = stream_arn.split(":", 5)[5].split("/")[1]
        table: Any = dynamodb_backends[account_id][region].tables.get(table_name)
    except (ImportError, IndexError, KeyError):
        return None
    shard = getattr(table, "stream_shard", None) if table is not None else None
    if shard is None:
        return None
    items = shard.items
    return {shard.id: items[-1].record["dynamodb"]["SequenceNumber"] if items else None}


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
