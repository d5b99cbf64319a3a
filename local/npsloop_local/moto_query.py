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

Finding those candidates by looking at every item made each index query O(table): the case sweep
alone queries an index five times per quarter hour. For a table with a stream, an
:class:`_AttributeIndex` maps each string or binary value of an index's partition attribute to the
primary keys holding it. Every change to an item goes through ``StreamShard.add`` (put, update,
delete, batch writes and transactions all end there), which marks the item's key stale; the next
query re-reads the stale items from the table before answering. A cancelled transaction's
restored items were marked when moto applied them, so they are re-read as restored. Tables without
a stream, and conditions on number values, fall back to looking at every item.

Both narrowings also drop the candidates outside the key condition's range (``BETWEEN``, ``<``,
``begins_with``...) with moto's own comparison on the attribute moto compares: moto sorts and sizes
every candidate before looking at its range key, so a week's query on a store's year cost the year.

Everything else - key conditions, filters, projections, pagination, limits, ScannedCount, the
results' deep copies - is moto's own code. ``all_items()`` is restored afterwards. Like the other
patches it relies on the moto lock of :mod:`.moto_patches` (one request at a time).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamShard, Table

from .moto_peek import every_item

__all__ = ["forget", "install", "uninstall"]

_original = Table.query
_original_add: Callable[..., None] | None = None
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


PrimaryKey = tuple[DynamoType, DynamoType | None]
Value = tuple[str, Any]


class _AttributeIndex:
    """For one table: attribute name -> (type, value) -> primary keys of the items holding it."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.keys: dict[str, dict[Value, set[PrimaryKey]]] = {}
        self.values: dict[PrimaryKey, dict[str, Value]] = {}
        self.stale: set[PrimaryKey] = set()

    def candidates(self, conditions: list[tuple[str, DynamoType]]) -> list[Item]:
        self._refresh()
        name, expected = conditions[0]
        if name not in self.keys:
            self._add_attribute(name)
        found: list[Item] = []
        for key in self.keys[name].get((expected.type, expected.value), ()):
            item = self._item(key)
            if item is not None and all(_same(item.attrs.get(n), v) for n, v in conditions):
                found.append(item)
        return found

    def _item(self, key: PrimaryKey) -> Item | None:
        hash_key, range_key = key
        bucket: Any = self.table.items.get(hash_key)
        if bucket is None or not self.table.range_key_attr:
            return bucket  # type: ignore[no-any-return]
        return bucket.get(range_key)  # type: ignore[no-any-return]

    def _add_attribute(self, name: str) -> None:
        self.keys[name] = {}
        for item in every_item(self.table):
            self._index(_key_of(item), item, (name,))

    def _index(self, key: PrimaryKey, item: Item, names: Any) -> None:
        for name in names:
            stored = item.attrs.get(name)
            if stored is None or stored.type not in _BY_VALUE:
                continue
            value = (stored.type, stored.value)
            self.keys[name].setdefault(value, set()).add(key)
            self.values.setdefault(key, {})[name] = value

    def _refresh(self) -> None:
        while self.stale:
            key = self.stale.pop()
            for name, value in self.values.pop(key, {}).items():
                holders = self.keys[name].get(value)
                if holders is not None:
                    holders.discard(key)
                    if not holders:
                        del self.keys[name][value]
            item = self._item(key)
            if item is not None:
                self._index(key, item, self.keys)


_indexes: dict[int, _AttributeIndex] = {}


def _key_of(item: Item) -> PrimaryKey:
    return item.hash_key, item.range_key


def _index_for(table: Table, conditions: list[tuple[str, DynamoType]]) -> _AttributeIndex | None:
    if table.stream_shard is None:
        _indexes.pop(id(table), None)  # a stream switched off would leave changes unseen
        return None
    if not conditions or conditions[0][1].type not in _BY_VALUE:
        return None
    index = _indexes.get(id(table))
    if index is None or index.table is not table:
        index = _indexes[id(table)] = _AttributeIndex(table)
    return index


def _marking_add(add: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(add)
    def marking(self: StreamShard, old: Item | None, new: Item | None) -> None:
        add(self, old, new)
        index = _indexes.get(id(self.table))
        changed = new if new is not None else old
        if index is not None and index.table is self.table and changed is not None:
            index.stale.add(_key_of(changed))

    return marking


def _index_candidates(table: Table, conditions: list[tuple[str, DynamoType]]) -> list[Item]:
    index = _index_for(table, conditions)
    if index is not None:
        return index.candidates(conditions)
    candidates: list[Item] = []
    for bucket in table.items.values():
        items = bucket.values() if table.range_key_attr else (bucket,)
        for item in items:
            attrs = item.attrs
            if all(_same(attrs.get(name), value) for name, value in conditions):
                candidates.append(item)
    return candidates


def _range_attribute(table: Table, index_name: str | None, range_conditions: list[Any]) -> str | None:
    """The attribute moto's Query compares the range condition with (its own choice, in its order)."""
    if range_conditions:
        return str(range_conditions[-1][0])
    if not index_name:
        return table.range_key_attr
    index = table.get_index(index_name)
    ranges = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
    return ranges[0] if ranges else None


def _in_range(
    candidates: Callable[[], list[Item]], attribute: str, comparison: str, values: list[DynamoType]
) -> list[Item]:
    """The candidates in range, and the lowest and highest of those outside it.

    moto stops at the item after the one that fills ``Limit`` and answers a ``LastEvaluatedKey`` if there
    is one, in range or not: the two outermost items outside the range keep that answer (one of them
    follows the range whenever any item does, whichever way the query reads).
    """
    inside: list[Item] = []
    outside: list[tuple[Any, Item]] = []
    for item in candidates():
        value = item.attrs.get(attribute)
        if not value:
            continue
        if value.compare(comparison, values):
            inside.append(item)
        else:
            outside.append((value.cast_value, item))
    if outside:
        ends = (min(outside, key=lambda pair: pair[0]), max(outside, key=lambda pair: pair[0]))
        inside.extend({id(item): item for _, item in ends}.values())
    return inside


@functools.wraps(_original)
def _fast_query(self: Table, *args: Any, **kwargs: Any) -> Any:
    hash_key = args[0] if args else kwargs.get("hash_key")
    comparison = args[1] if len(args) > 1 else kwargs.get("range_comparison")
    range_values = args[2] if len(args) > 2 else kwargs.get("range_objs")
    index_name = args[7] if len(args) > 7 else kwargs.get("index_name")  # Table.query: index_name is the 8th
    conditions = kwargs.get("hash_key_conditions") or []
    narrow: Callable[[], list[Item]] | None = None
    if index_name and conditions:
        narrow = functools.partial(_index_candidates, self, list(conditions))
    elif not index_name and isinstance(hash_key, DynamoType):
        narrow = functools.partial(_partition_items, self, hash_key)
    if narrow is None:
        return _original(self, *args, **kwargs)
    attribute = _range_attribute(self, index_name, kwargs.get("range_key_conditions") or [])
    if comparison and attribute:
        # The range condition too: moto sorts and sizes every candidate before comparing it, so a
        # week's query on a year's partition cost the year. It compares them again: same answer.
        narrow = functools.partial(_in_range, narrow, attribute, comparison, list(range_values or []))
    self.all_items = narrow  # type: ignore[method-assign]
    try:
        return _original(self, *args, **kwargs)
    finally:
        del self.all_items


def forget(table: Table) -> None:
    """Drop what was indexed of ``table``: items were put into it directly (no stream record marked
    them), so the next index query indexes it afresh."""
    _indexes.pop(id(table), None)


def install() -> None:
    global _original_add  # noqa: PLW0603
    Table.query = _fast_query  # type: ignore[method-assign]
    _original_add = StreamShard.add
    StreamShard.add = _marking_add(_original_add)  # type: ignore[method-assign]


def uninstall() -> None:
    global _original_add  # noqa: PLW0603
    Table.query = _original  # type: ignore[method-assign]
    if _original_add is not None:
        StreamShard.add = _original_add  # type: ignore[method-assign]
        _original_add = None
    _indexes.clear()
