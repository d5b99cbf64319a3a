"""Make moto's DynamoDB Query cost O(matching partition), not O(table log table).

moto 5.2's ``Table.query`` starts from ``Table.all_items()``, which lists *every* item of the table
and sorts them all by their keys (comparisons that build ``Decimal``s and dicts), and only then
keeps the items of the queried partition. With a few thousand items a query takes hundreds of
milliseconds; the demo's tables hold tens of thousands.

While the local stack runs, this wrapper hands ``Table.query`` a narrower ``all_items()`` for the
duration of one call:

- **table queries**: the items of the queried partition key (``table.items[hash_key]``), since moto
  keeps only ``item.hash_key == hash_key`` anyway and then sorts them by range key itself;
- **index queries**: the items whose index partition attributes equal the key condition's values
  (same type, same value), unsorted - moto re-checks every condition on them and sorts the
  candidates by the full index key (index keys, then the table's keys, a total order), so the
  order of the input never shows.

Everything else - key conditions, filters, projections, pagination, limits, ScannedCount, the
results' deep copies - is moto's own code. ``all_items()`` is restored afterwards. Like the other
patches it relies on the moto lock of :mod:`.moto_patches` (one request at a time).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

__all__ = ["install", "uninstall"]

_original = Table.query
_BY_VALUE = frozenset({"S", "B", "BOOL"})  # types whose cast value is the stored value itself


def _same(stored: DynamoType | None, expected: DynamoType) -> bool:
    if stored is None or stored.type != expected.type:
        return False
    if expected.type in _BY_VALUE:
        return bool(stored.value == expected.value)
    return bool(stored == expected)


def _partition_items(table: Table, hash_key: DynamoType) -> list[Item]:
    bucket = table.items.get(hash_key)
    if bucket is None:
        return []
    if table.range_key_attr:
        return list(bucket.values())
    return [bucket]  # type: ignore[list-item]


def _index_candidates(table: Table, conditions: list[tuple[str, DynamoType]]) -> list[Item]:
    candidates: list[Item] = []
    for bucket in table.items.values():
        items = bucket.values() if table.range_key_attr else (bucket,)
        for item in items:
            attrs = item.attrs
            if all(_same(attrs.get(name), value) for name, value in conditions):
                candidates.append(item)
    return candidates


@functools.wraps(_original)
def _fast_query(self: Table, *args: Any, **kwargs: Any) -> Any:
    hash_key = args[0] if args else kwargs.get("hash_key")
    index_name = args[7] if len(args) > 7 else kwargs.get("index_name")  # Table.query: index_name is the 8th
    conditions = kwargs.get("hash_key_conditions") or []
    narrow: Callable[[], list[Item]] | None = None
    if index_name and conditions:
        narrow = functools.partial(_index_candidates, self, list(conditions))
    elif not index_name and isinstance(hash_key, DynamoType):
        narrow = functools.partial(_partition_items, self, hash_key)
    if narrow is None:
        return _original(self, *args, **kwargs)
    self.all_items = narrow  # type: ignore[method-assign]
    try:
        return _original(self, *args, **kwargs)
    finally:
        del self.all_items


def install() -> None:
    Table.query = _fast_query  # type: ignore[method-assign]


def uninstall() -> None:
    Table.query = _original  # type: ignore[method-assign]
