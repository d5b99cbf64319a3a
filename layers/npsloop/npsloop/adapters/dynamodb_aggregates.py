"""Score aggregates in the npsloop table: one item per program x dimension x value x UTC day.

Items: ``pk = AGG#<program_id>#<dimension>``, ``sk = <yyyy-mm-dd>#<value>``, entity ``aggregate``,
with ``n``, ``c<score>`` per score value and ``commented``, all maintained with ``ADD`` so
concurrent batches never lose an update. A chunk of stream records is applied in one
TransactWriteItems together with its journal entry (``pk = AGGJ#<id>``, ``sk = CHUNK``, kept two
days by TTL), put only if absent: a redelivered chunk finds its entry and writes nothing.

Reading a dimension over a date range is one Query (paged) on its partition: the items read grow
with days x values and never with the number of responses behind them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from npsloop.adapters.dynamodb_table import StorageError, _unmarshal
from npsloop.domain.aggregates import AggregateKey, DayAggregate, Delta, partition_of
from npsloop.domain.surveys import SurveyType
from npsloop.ports.scoring import MAX_UPDATES_PER_CHUNK, AggregateReader, AggregateWriter, ChunkOutcome

JOURNAL_SK = "CHUNK"
_COUNT = re.compile(r"^c([0-9]{1,2})$")
# Short, bounded calls: a chunk must finish well inside the function's timeout, or Lambda would
# bisect a batch whose first chunks are applied (see services/score.py).
CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 3})


def journal_key(journal_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"AGGJ#{journal_id}"}, "sk": {"S": JOURNAL_SK}}


@dataclass
class ReadStats:
    """What the reads cost so far (for tests and the benchmark)."""

    queries: int = 0
    pages: int = 0
    items: int = 0
    capacity_units: float = 0.0


def _update(table: str, key: AggregateKey, delta: Delta) -> dict[str, Any]:
    names = {
        "#entity": "entity",
        "#program": "program_id",
        "#type": "survey_type",
        "#dimension": "dimension",
        "#value": "value",
        "#day": "day",
    }
    values: dict[str, Any] = {
        ":entity": {"S": "aggregate"},
        ":program": {"S": key.program_id},
        ":type": {"S": delta.survey_type.value},
        ":dimension": {"S": key.dimension},
        ":value": {"S": key.value},
        ":day": {"S": key.day.isoformat()},
    }
    adds: list[str] = []
    for attribute, amount in (
        ("n", delta.n),
        ("commented", delta.commented),
        *((f"c{score}", k) for score, k in sorted(delta.counts.items())),
    ):
        if amount:
            names[f"#{attribute}"] = attribute
            values[f":{attribute}"] = {"N": str(amount)}
            adds.append(f"#{attribute} :{attribute}")
    return {
        "Update": {
            "TableName": table,
            "Key": {"pk": {"S": key.pk}, "sk": {"S": key.sk}},
            "UpdateExpression": "SET #entity = :entity, #program = :program, #type = :type, "
            "#dimension = :dimension, #value = :value, #day = :day ADD " + ", ".join(adds),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _aggregate_from(item: dict[str, Any]) -> DayAggregate:
    data = _unmarshal(item)
    counts = {int(match.group(1)): int(v) for k, v in data.items() if (match := _COUNT.match(k)) and int(v)}
    return DayAggregate(
        dimension=str(data["dimension"]),
        value=str(data["value"]),
        day=date.fromisoformat(str(data["day"])),
        survey_type=SurveyType(str(data["survey_type"])),
        n=int(data.get("n", 0)),
        counts=counts,
        commented=int(data.get("commented", 0)),
    )


class DynamoAggregates(AggregateWriter, AggregateReader):
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb", config=CLIENT_CONFIG)
        self.stats = ReadStats()

    def apply(self, journal_id: str, updates: Mapping[AggregateKey, Delta], expires_at: datetime) -> ChunkOutcome:
        if len(updates) > MAX_UPDATES_PER_CHUNK:
            raise ValueError(f"{len(updates)} updates do not fit one transaction (at most {MAX_UPDATES_PER_CHUNK})")
        journal = {
            "Put": {
                "TableName": self._table,
                "Item": {
                    **journal_key(journal_id),
                    "entity": {"S": "aggregate_journal"},
                    "updates": {"N": str(len(updates))},
                    "ttl": {"N": str(int(expires_at.timestamp()))},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        items = [journal, *(_update(self._table, key, delta) for key, delta in sorted(updates.items()))]
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            error = exc.response.get("Error", {}).get("Code")
            reasons = [reason.get("Code") for reason in exc.response.get("CancellationReasons", [])]
            # The journal entry exists only if a transaction holding exactly these updates committed.
            if error == "TransactionCanceledException" and reasons[:1] == ["ConditionalCheckFailed"]:
                return ChunkOutcome.REPLAYED
            raise StorageError(f"{error}: {reasons or exc}") from exc
        return ChunkOutcome.APPLIED

    def read(
        self, program_id: str, dimension: str, first_day: date, last_day: date, value: str | None = None
    ) -> list[DayAggregate]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": partition_of(program_id, dimension)},
                ":first": {"S": first_day.isoformat()},
                # "<last>~" sorts after "<last>#<any value>" and before the next day.
                ":last": {"S": f"{last_day.isoformat()}~"},
            },
            "ReturnConsumedCapacity": "TOTAL",
        }
        if value is not None:
            request["FilterExpression"] = "#value = :value"
            request["ExpressionAttributeNames"] = {"#value": "value"}
            request["ExpressionAttributeValues"][":value"] = {"S": value}
        self.stats.queries += 1
        found: list[DayAggregate] = []
        while True:
            try:
                page = self._client.query(**request)
            except ClientError as exc:
                raise StorageError(str(exc)) from exc
            self.stats.pages += 1
            self.stats.items += int(page.get("ScannedCount", len(page.get("Items", []))))
            self.stats.capacity_units += float((page.get("ConsumedCapacity") or {}).get("CapacityUnits", 0.0))
            found.extend(_aggregate_from(item) for item in page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
