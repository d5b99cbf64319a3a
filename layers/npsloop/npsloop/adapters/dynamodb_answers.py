"""The answer index on the npsloop table: two overloaded GSIs carry every response (docs/data-model.md).

- GSI2 ``ANSWERS#<program>#<store>`` / ``<position>``: a store's answers, newest first;
- GSI1 ``ANSWERS#<program>#<yyyy-mm>`` / ``<position>``: the network's, one partition per UTC month.

``answer_index_keys`` is the one place the keys are made: the respond path and the importer both
write them, from the answer's first ``created_at`` (a changed answer keeps its place).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from npsloop.domain.answers import position_of
from npsloop.domain.responses import Response
from npsloop.ports.answers import AnswerBatch, AnswerIndex, AnswerSource, Narrowing

_deserializer = TypeDeserializer()
BY_STORE = ("GSI2", "gsi2pk", "gsi2sk")
BY_MONTH = ("GSI1", "gsi1pk", "gsi1sk")
BATCH_GET_MAX = 100
_ATTEMPTS = 5


class AnswerIndexError(Exception):
    """DynamoDB refused a read of the answer index."""


def answer_index_keys(program_id: str, context: dict[str, str], created_at: datetime, invitation_id: str) -> dict:
    position = position_of(created_at, invitation_id)
    keys = {"gsi1pk": f"ANSWERS#{program_id}#{created_at.astimezone(UTC):%Y-%m}", "gsi1sk": position}
    store = context.get("store")
    if store:
        keys |= {"gsi2pk": f"ANSWERS#{program_id}#{store}", "gsi2sk": position}
    return keys


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


class DynamoAnswers(AnswerIndex):
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def read(self, source: AnswerSource, low: str, high: str, limit: int, narrowing: Narrowing) -> AnswerBatch:
        index, pk, sk = BY_STORE if source.store is not None else BY_MONTH
        partition = f"ANSWERS#{source.program_id}#{source.store if source.store is not None else source.month}"
        names = {"#pk": pk, "#sk": sk}
        values: dict[str, Any] = {":pk": {"S": partition}, ":low": {"S": low}, ":high": {"S": high}}
        filters = []
        if narrowing.scores is not None:
            filters.append("score BETWEEN :s0 AND :s1")
            values[":s0"], values[":s1"] = {"N": str(narrowing.scores[0])}, {"N": str(narrowing.scores[1])}
        if narrowing.channel is not None:
            names |= {"#ctx": "context", "#channel": "channel"}
            filters.append("#ctx.#channel = :channel")
            values[":channel"] = {"S": narrowing.channel}
        if narrowing.context is not None:
            names |= {"#ctx": "context", "#key": narrowing.context[0]}
            filters.append("#ctx.#key = :value")
            values[":value"] = {"S": narrowing.context[1]}
        if narrowing.comment_only:
            names["#comment"] = "comment"
            filters.append("attribute_exists(#comment)")
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit + 1,  # the first may be ``high`` itself (the last answer of the page before)
        }
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        try:
            result = self._client.query(**request)
        except ClientError as exc:
            raise AnswerIndexError(str(exc)) from exc
        items = [_plain(item) for item in result.get("Items", [])]
        answers = [Response.model_validate(item) for item in items if item.get(sk) != high]
        last = result.get("LastEvaluatedKey")
        return AnswerBatch(answers=answers, frontier=last[sk]["S"] if last else None)

    def cases_among(self, case_ids: Iterable[str]) -> set[str]:
        ids = sorted(set(case_ids))
        found: set[str] = set()
        for start in range(0, len(ids), BATCH_GET_MAX):
            keys = [{"pk": {"S": f"CASE#{i}"}, "sk": {"S": "CASE"}} for i in ids[start : start + BATCH_GET_MAX]]
            request = {self._table: {"Keys": keys, "ProjectionExpression": "pk"}}
            for _ in range(_ATTEMPTS):
                try:
                    result = self._client.batch_get_item(RequestItems=request)
                except ClientError as exc:
                    raise AnswerIndexError(str(exc)) from exc
                found |= {item["pk"]["S"].removeprefix("CASE#") for item in result["Responses"].get(self._table, [])}
                request = result.get("UnprocessedKeys") or {}
                if not request:
                    break
        return found
