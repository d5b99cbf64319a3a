"""Make moto's DynamoDB TransactWriteItems cost O(items in the transaction), not O(table).

moto 5.2 backs up every table a transaction touches with ``copy.deepcopy(table)`` before applying
it, so each transaction copies the whole table (and its stream): a month of demo traffic becomes
quadratic. While the local stack runs, this wrapper snapshots only the items the transaction names
(and the stream's length), lets moto apply the transaction with its table backup turned into a
no-op, and restores those items itself if moto cancels the transaction. Semantics are unchanged:
all or nothing, the same cancellation reasons, no stream records from a cancelled transaction.

It relies on the moto lock (moto_patches): while one request runs, no other thread touches moto.
"""

from __future__ import annotations

import copy
import types
from typing import Any

import moto.dynamodb.models as _models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models import dynamo_type as _dynamo_type
from moto.dynamodb.models.table import Table

_original = DynamoDBBackend.transact_write_items


def _deepcopy_except_tables(value: Any, memo: dict[int, Any] | None = None) -> Any:
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_copy_shim = types.SimpleNamespace(deepcopy=_deepcopy_except_tables, copy=copy.copy)


def _keys(table: Table, op: dict[str, Any]) -> tuple[Any, Any]:
    source = op.get("Key") or op.get("Item") or {}
    hash_value = _dynamo_type.DynamoType(source[table.hash_key_attr])
    range_value = _dynamo_type.DynamoType(source[table.range_key_attr]) if table.has_range_key else None
    return hash_value, range_value


def _fast_transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    snapshots: list[tuple[Table, Any, Any, Any]] = []
    stream_lengths: dict[int, tuple[Table, int]] = {}
    try:
        for entry in transact_items:
            ((_, op),) = entry.items()
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            hash_value, range_value = _keys(table, op)
            snapshots.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
            if table.stream_shard is not None:
                stream_lengths[id(table)] = (table, len(table.stream_shard.items))
    except Exception:
        return _original(self, transact_items)

    _models.copy = _copy_shim  # type: ignore[attr-defined]
    try:
        return _original(self, transact_items)
    except Exception:
        for table, hash_value, range_value, item in reversed(snapshots):
            _restore(table, hash_value, range_value, item)
        for table, length in stream_lengths.values():
            del table.stream_shard.items[length:]  # type: ignore[union-attr]
        raise
    finally:
        _models.copy = copy  # type: ignore[attr-defined]


def _restore(table: Table, hash_value: Any, range_value: Any, item: Any) -> None:
    if table.has_range_key:
        bucket = table.items[hash_value]
        if item is None:
            bucket.pop(range_value, None)
            if not bucket:
                table.items.pop(hash_value, None)
        else:
            bucket[range_value] = item
    elif item is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = item


def install() -> None:
    DynamoDBBackend.transact_write_items = _fast_transact_write_items  # type: ignore[method-assign]


def uninstall() -> None:
    DynamoDBBackend.transact_write_items = _original  # type: ignore[method-assign]
