"""Day items in the npsloop table: one per program x dimension x value x UTC day, with all its counters.

Items: ``pk = AGG#<program_id>#<dimension>#<yyyy-mm>`` (the day's UTC month), ``sk = <yyyy-mm-dd>#<value>``,
entity ``aggregate``: the score's counters (``survey_type``, ``n``, ``c<score>`` per score value,
``commented``), the funnel's (``f#<stage>``, domain/funnel.py) and the themes' (``a#``, ``s#``, ``t#``,
domain/themes.py), all maintained with ``ADD`` so concurrent batches never lose an update. A batch
writes a key's three kinds of delta in one UpdateItem. A chunk of a write has a journal entry
(``pk = AGGJ#<id>``, ``sk = CHUNK``, its extent - keys of a window's write, records of a batch - and
whether it is done, kept two days by TTL); a shard's checkpoint (``pk = AGGC#<shard id>``,
``sk = CHECKPOINT``) holds the last sequence number written, zero-padded so that string order is stream
order; and
each of its writes carries the chunk's mark (``j<first 16 hex of the id>``: the epoch
second after which it may be dropped), on condition the mark is absent (services/score.py says why
that is exactly once). Marks of chunks known closed (by this container) or expired (seen in a
write's reply) are removed by the next write to the same item, so an item holds a few marks.

A key of a day before yesterday that this container has not written (history being imported, a
backfill) is most likely new: it is created whole with a PutItem conditional on the item's absence
and, if the item exists after all, written as usual. Both cost one write unit; the conditional put
spares DynamoDB (and the local stack's moto, where it is five times cheaper) an update expression.
Live traffic writes today's and yesterday's keys, always with the update.

Reading a dimension over a date range is one Query (paged) per month the range touches, on that
month's partition with the sort key clipped to the range's part of it: the items read grow with
days x values and never with the number of responses behind them, nor with the months of history
kept. Scores, funnel days and theme days are read from the same items, each taking the items that
hold its counters (scores: those with a ``survey_type``, written by an answer).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from npsloop.adapters.dynamodb_items import StorageError, _is_conditional_failure, _unmarshal
from npsloop.changes import SEQUENCE_WIDTH
from npsloop.domain.aggregates import (
    FUNNEL_COUNTER,
    AggregateKey,
    AnyDelta,
    DayAggregate,
    month_spans,
    partition_of,
    partition_parts,
)
from npsloop.domain.funnel import FunnelDay
from npsloop.domain.surveys import SurveyType
from npsloop.domain.themes import ThemeDay
from npsloop.ports.scoring import AggregateReader, AggregateWriter, ChunkJournal, FunnelReader, ThemeReader

JOURNAL_SK = "CHUNK"
CHECKPOINT_SK = "CHECKPOINT"
ENTITY = "aggregate"
_THEME_COUNTERS = ("a#", "s#", "t#")
_COUNT = re.compile(r"^c([0-9]{1,2})$")
_MARK = re.compile(r"^j[0-9a-f]{16}$")
REMEMBERED_ITEMS = 5_000  # items whose droppable marks a container remembers (the oldest are forgotten)
KNOWN_ITEMS = 20_000  # items a container knows exist (it wrote them)
TRANSACTION_ITEMS = 100
# Short, bounded calls: a write must finish well inside the function's timeout, or Lambda would
# retry a batch the function is still writing (see services/score.py).
CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 3})


_Day = TypeVar("_Day", DayAggregate, FunnelDay, ThemeDay)


def journal_key(journal_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"AGGJ#{journal_id}"}, "sk": {"S": JOURNAL_SK}}


def checkpoint_key(shard_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"AGGC#{shard_id}"}, "sk": {"S": CHECKPOINT_SK}}


@dataclass
class ReadStats:
    """What the reads cost so far (for tests and the benchmark)."""

    queries: int = 0
    pages: int = 0
    items: int = 0
    capacity_units: float = 0.0


def mark_of(journal_id: str) -> str:
    return f"j{journal_id[:16]}"


def _update(
    table: str, key: AggregateKey, delta: AnyDelta, *, mark: str, expires: int, drop: set[str]
) -> dict[str, Any]:
    # Program, dimension, value and day are the key itself (read back from pk and sk): the update sets
    # nothing it need not, which keeps every write of every answer short.
    names = {"#entity": "entity"}
    values: dict[str, Any] = {":entity": {"S": ENTITY}, ":mark": {"N": str(expires)}}
    sets = ["#entity = :entity"]
    for n, (attribute, value) in enumerate(delta.fixed().items()):
        names[f"#f{n}"] = attribute
        values[f":f{n}"] = {"S": value}
        sets.append(f"#f{n} = :f{n}")
    names["#mark"] = mark
    sets.append("#mark = :mark")
    adds: list[str] = []
    for n, (attribute, amount) in enumerate(delta.counters()):
        # Indexed placeholders: theme counters ("t#delivery#negative#detractor") are no placeholder names.
        names[f"#a{n}"] = attribute
        values[f":a{n}"] = {"N": str(amount)}
        adds.append(f"#a{n} :a{n}")
    removes = []
    for n, name in enumerate(sorted(drop - {mark})):
        names[f"#d{n}"] = name
        removes.append(f"#d{n}")
    return {
        "TableName": table,
        "Key": {"pk": {"S": key.pk}, "sk": {"S": key.sk}},
        "UpdateExpression": "SET "
        + ", ".join(sets)
        + " ADD "
        + ", ".join(adds)
        + (" REMOVE " + ", ".join(removes) if removes else ""),
        "ConditionExpression": "attribute_not_exists(#mark)",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_NEW",  # costs no read: tells which marks are there to drop next time
    }


def _whole(key: AggregateKey, delta: AnyDelta, mark: str, expires: int) -> dict[str, Any]:
    """The item of a key's first write: its counts and the chunk's mark."""
    item: dict[str, Any] = {
        "pk": {"S": key.pk},
        "sk": {"S": key.sk},
        "entity": {"S": ENTITY},
        **{attribute: {"S": value} for attribute, value in delta.fixed().items()},
        mark: {"N": str(expires)},
    }
    for attribute, amount in delta.counters():
        item[attribute] = {"N": str(amount)}
    return item


def _day_of(data: dict[str, Any]) -> tuple[str, str, date]:
    _, dimension, _ = partition_parts(str(data["pk"]))  # AGG#<program>#<dimension>#<yyyy-mm>
    day, value = str(data["sk"]).split("#", 1)  # <yyyy-mm-dd>#<value>
    return dimension, value, date.fromisoformat(day)


def _aggregate_from(data: dict[str, Any]) -> DayAggregate | None:
    """The day's scores; None if the day has no answers (only funnel or theme counters)."""
    if "survey_type" not in data:
        return None
    counts = {int(match.group(1)): int(v) for k, v in data.items() if (match := _COUNT.match(k)) and int(v)}
    dimension, value, day = _day_of(data)
    return DayAggregate(
        dimension=dimension,
        value=value,
        day=day,
        survey_type=SurveyType(str(data["survey_type"])),
        n=int(data.get("n", 0)),
        counts=counts,
        commented=int(data.get("commented", 0)),
    )


def _funnel_day_from(data: dict[str, Any]) -> FunnelDay | None:
    """The day's funnel; None if no invitation or answer of an invitation ever counted on it."""
    stages = {k.removeprefix(FUNNEL_COUNTER): int(v) for k, v in data.items() if k.startswith(FUNNEL_COUNTER)}
    if not stages:
        return None
    dimension, value, day = _day_of(data)
    return FunnelDay(dimension=dimension, value=value, day=day, counts={k: v for k, v in stages.items() if v})


def _theme_day_from(data: dict[str, Any]) -> ThemeDay | None:
    """The day's themes; None if no analysed comment ever counted on it."""
    counts = {k: int(v) for k, v in data.items() if k.startswith(_THEME_COUNTERS)}
    if not counts:
        return None
    dimension, value, day = _day_of(data)
    return ThemeDay(dimension=dimension, value=value, day=day, counts={k: v for k, v in counts.items() if v})


class DynamoAggregates(AggregateWriter, AggregateReader, FunnelReader, ThemeReader):
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb", config=CLIENT_CONFIG)
        self.stats = ReadStats()
        self._droppable: OrderedDict[tuple[str, str], set[str]] = OrderedDict()  # item -> marks safe to drop
        self._written: dict[str, list[tuple[str, str]]] = {}  # open chunk -> items it wrote
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()  # items this container wrote

    def open_chunk(self, journal_id: str, records: int, last_event_id: str, expires_at: datetime) -> ChunkJournal:
        item = {
            **journal_key(journal_id),
            "entity": {"S": "aggregate_journal"},
            "records": {"N": str(records)},
            "last_event_id": {"S": last_event_id},
            "ttl": {"N": str(int(expires_at.timestamp()))},
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise StorageError(str(exc)) from exc
            found = exc.response.get("Item") or self._get_journal(journal_id)
            data = _unmarshal(found)
            return ChunkJournal(
                records=int(data["records"]),
                last_event_id=str(data["last_event_id"]),
                done=bool(data.get("done", False)),
                created=False,
            )
        return ChunkJournal(records=records, last_event_id=last_event_id, done=False, created=True)

    def _get_journal(self, journal_id: str) -> dict[str, Any]:
        try:
            reply = self._client.get_item(TableName=self._table, Key=journal_key(journal_id), ConsistentRead=True)
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        if "Item" not in reply:
            raise StorageError(f"journal {journal_id} refused the put yet is not there")
        return reply["Item"]

    def add(
        self, journal_id: str, key: AggregateKey, delta: AnyDelta, mark_expires_at: datetime, now: datetime
    ) -> bool:
        mark = mark_of(journal_id)
        item_key = (key.pk, key.sk)
        expires = int(mark_expires_at.timestamp())
        if (now.date() - key.day).days > 1 and item_key not in self._known and self._create(key, delta, mark, expires):
            self._note(journal_id, item_key)
            return True
        drop = self._droppable.get(item_key, set())
        request = _update(self._table, key, delta, mark=mark, expires=expires, drop=drop)
        try:
            reply = self._client.update_item(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False  # an earlier delivery of this chunk wrote this key
            raise StorageError(str(exc)) from exc
        attributes = reply.get("Attributes") or {}
        expired = {
            name
            for name, value in attributes.items()
            if _MARK.match(name) and name != mark and int(value.get("N", "0")) < now.timestamp()
        }
        self._remember(item_key, expired)
        self._note(journal_id, item_key)
        return True

    def create_all(
        self, journal_id: str, items: Sequence[tuple[AggregateKey, AnyDelta]], mark_expires_at: datetime, now: datetime
    ) -> set[AggregateKey]:
        """Past days' keys this container has not written, put whole by transactions of up to 100 if absent.

        An import of history meets mostly new keys: one TransactWriteItems of up to 100 conditional puts
        instead of a call per key (transactional writes cost two write units each; live traffic, which
        writes today's keys, never takes this path). Each transaction is all or nothing: if any of its
        keys exists it writes nothing, and its keys go through ``add``.
        """
        mark, expires = mark_of(journal_id), int(mark_expires_at.timestamp())
        wanted = [
            (key, delta)
            for key, delta in items
            if (now.date() - key.day).days > 1 and (key.pk, key.sk) not in self._known
        ]
        if len(wanted) < 2:
            return set()
        created: set[AggregateKey] = set()
        for start in range(0, len(wanted), TRANSACTION_ITEMS):
            group = wanted[start : start + TRANSACTION_ITEMS]
            if self._put_all(group, mark, expires):
                for key, _ in group:
                    self._note(journal_id, (key.pk, key.sk))
                created |= {key for key, _ in group}
        return created

    def _put_all(self, group: Sequence[tuple[AggregateKey, AnyDelta]], mark: str, expires: int) -> bool:
        puts = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": _whole(key, delta, mark, expires),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for key, delta in group
        ]
        try:
            self._client.transact_write_items(TransactItems=puts)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return False
            raise StorageError(str(exc)) from exc
        return True

    def _create(self, key: AggregateKey, delta: AnyDelta, mark: str, expires: int) -> bool:
        """Put the item whole if it is absent; False if it exists (the caller then updates it)."""
        item = _whole(key, delta, mark, expires)
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StorageError(str(exc)) from exc
        return True

    def _note(self, journal_id: str, item_key: tuple[str, str]) -> None:
        self._written.setdefault(journal_id, []).append(item_key)
        self._known.pop(item_key, None)
        self._known[item_key] = None
        while len(self._known) > KNOWN_ITEMS:
            self._known.popitem(last=False)

    def close_chunk(self, journal_id: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=journal_key(journal_id),
                UpdateExpression="SET #done = :done",
                ExpressionAttributeNames={"#done": "done"},
                ExpressionAttributeValues={":done": {"BOOL": True}},
            )
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        # Closed: a redelivery of the chunk now writes nothing, so its marks are no longer needed.
        for item_key in self._written.pop(journal_id, []):
            self._remember(item_key, {mark_of(journal_id)}, add=True)

    def checkpoint(self, shard_id: str) -> str | None:
        try:
            reply = self._client.get_item(TableName=self._table, Key=checkpoint_key(shard_id), ConsistentRead=True)
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        found = reply.get("Item")
        return found["sequence_number"]["S"] if found else None  # zero-padded: the same place in the stream

    def advance_checkpoint(self, shard_id: str, sequence_number: str, expires_at: datetime) -> None:
        # Zero-padded, so that string order is stream order: the condition never moves it back.
        padded = sequence_number.zfill(SEQUENCE_WIDTH)
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **checkpoint_key(shard_id),
                    "entity": {"S": "aggregate_checkpoint"},
                    "sequence_number": {"S": padded},
                    "ttl": {"N": str(int(expires_at.timestamp()))},
                },
                ConditionExpression="attribute_not_exists(pk) OR sequence_number < :sequence",
                ExpressionAttributeValues={":sequence": {"S": padded}},
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):  # refused: a later record's checkpoint is already there
                raise StorageError(str(exc)) from exc

    def _remember(self, item_key: tuple[str, str], marks: set[str], add: bool = False) -> None:
        if add:
            marks = self._droppable.get(item_key, set()) | marks
        self._droppable.pop(item_key, None)
        if marks:
            self._droppable[item_key] = marks
            while len(self._droppable) > REMEMBERED_ITEMS:
                self._droppable.popitem(last=False)

    def read(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[DayAggregate]:
        return self._read(_aggregate_from, program_id, dimension, first_day, last_day, value=value)

    def read_funnel(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[FunnelDay]:
        return self._read(_funnel_day_from, program_id, dimension, first_day, last_day, value=value)

    def read_themes(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[ThemeDay]:
        return self._read(_theme_day_from, program_id, dimension, first_day, last_day, value=value)

    def _read(
        self,
        view: Callable[[dict[str, Any]], _Day | None],
        program_id: str,
        dimension: str,
        first_day: date,
        last_day: date,
        *,
        value: str | None,
    ) -> list[_Day]:
        days = (view(_unmarshal(item)) for item in self._days(program_id, dimension, first_day, last_day, value=value))
        return [day for day in days if day is not None]

    def _days(
        self, program_id: str, dimension: str, first_day: date, last_day: date, *, value: str | None
    ) -> list[dict[str, Any]]:
        """The items of ``first_day..last_day``, in day order: one Query per month's partition."""
        found: list[dict[str, Any]] = []
        for first, last in month_spans(first_day, last_day):
            found.extend(self._month(partition_of(program_id, dimension, first), first, last, value))
        return found

    def _month(self, partition: str, first_day: date, last_day: date, value: str | None) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": partition},
                ":first": {"S": first_day.isoformat()},
                # "<last>~" sorts after "<last>#<any value>" and before the next day.
                ":last": {"S": f"{last_day.isoformat()}~"},
            },
            "ReturnConsumedCapacity": "TOTAL",
        }
        self.stats.queries += 1
        found: list[dict[str, Any]] = []
        while True:
            try:
                page = self._client.query(**request)
            except ClientError as exc:
                raise StorageError(str(exc)) from exc
            self.stats.pages += 1
            self.stats.items += int(page.get("ScannedCount", len(page.get("Items", []))))
            self.stats.capacity_units += float((page.get("ConsumedCapacity") or {}).get("CapacityUnits", 0.0))
            # One value is picked here, not by a FilterExpression: the value is the sort key's tail, and
            # a filter would read (and bill) the same items anyway.
            found.extend(
                item for item in page.get("Items", []) if value is None or item["sk"]["S"].split("#", 1)[1] == value
            )
            if not page.get("LastEvaluatedKey"):
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
