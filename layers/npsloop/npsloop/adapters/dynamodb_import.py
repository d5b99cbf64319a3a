"""The importer's writes: BatchWriteItem of whole items, in the shapes the live system writes them.

A response item is ``DynamoTable.save_answer``'s (plus ``imported``, ``source``, ``source_id``, tags
and notes); a suppression item has the attributes ``DynamoDeliveryStore.suppress`` sets. BatchWriteItem
cannot be conditional, so the service asks ``existing`` first and puts only what is absent: a live
suppression or response is never overwritten, and a re-import writes nothing (so the stream carries
nothing and no aggregate moves).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import boto3
from botocore.exceptions import ClientError

from npsloop.adapters.dynamodb_answers import answer_index_keys
from npsloop.adapters.dynamodb_items import (
    EMAIL_SUPPRESSION_SK,
    RESPONSE_SK,
    StorageError,
    _iso,
    _marshal,
)
from npsloop.importing.records import Imported, ImportedResponse, ImportedSuppression
from npsloop.ports.importing import BATCH_GET_LIMIT, BATCH_WRITE_LIMIT, ImportWriter

MAX_ATTEMPTS = 10
BASE_DELAY_S = 0.05
MAX_DELAY_S = 5.0


def response_item(record: ImportedResponse) -> dict[str, Any]:
    response = record.response
    document = {
        **response.model_dump(mode="json", exclude_none=True),
        "entity": "response",
        "pk": f"INV#{response.invitation_id}",
        "sk": RESPONSE_SK,
        **answer_index_keys(response.program_id, response.context, response.created_at, response.invitation_id),
        "imported": True,
        "source": record.source,
        "source_id": record.source_id,
        "tags": list(record.tags) or None,
        "notes": list(record.notes) or None,
    }
    return _scalars_first(_marshal(document))


def _scalars_first(item: dict[str, Any]) -> dict[str, Any]:
    """The same item with its maps and lists (context, analysis, tags, notes) after its scalar attributes.

    DynamoDB keeps no attribute order. The local stack's moto does not care either, but it checks an item's
    size by re-measuring everything already set at every attribute it sets, maps in full: an imported
    answer's maps measured once rather than a dozen times each is a quarter of moto's work per put.
    """
    nested = {k: v for k, v in item.items() if "M" in v or "L" in v}
    return {k: v for k, v in item.items() if k not in nested} | nested


def suppression_item(record: ImportedSuppression) -> dict[str, Any]:
    suppression = record.suppression
    at = _iso(suppression.at)
    item = _marshal(
        {
            "pk": f"SUPP#{suppression.address_key}",
            "sk": EMAIL_SUPPRESSION_SK,
            "entity": "suppression",
            "address_key": suppression.address_key,
            "reason": suppression.reason.value,
            "first_seen_at": at,
            f"{suppression.reason.value}_at": at,
            "message_id": suppression.message_id,
            "imported": True,
            "source": record.source,
        }
    )
    item["reasons"] = {"SS": [suppression.reason.value]}
    return item


def item_of(record: Imported) -> dict[str, Any]:
    return response_item(record) if isinstance(record, ImportedResponse) else suppression_item(record)


class DynamoImportWriter(ImportWriter):
    def __init__(self, table_name: str, client: Any | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._sleep = sleep
        self.retries = 0  # unprocessed-item rounds retried, for the summary

    @classmethod
    def connect(cls, table_name: str, region: str | None, endpoint_url: str | None) -> DynamoImportWriter:
        """For the CLI: a client for a real account (the usual credential chain) or a local endpoint."""
        return cls(table_name, boto3.client("dynamodb", region_name=region, endpoint_url=endpoint_url))

    def key_of(self, record: Imported) -> tuple[str, str]:
        if isinstance(record, ImportedResponse):
            return f"INV#{record.response.invitation_id}", RESPONSE_SK
        return f"SUPP#{record.suppression.address_key}", EMAIL_SUPPRESSION_SK

    def existing(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        if len(keys) > BATCH_GET_LIMIT:
            raise ValueError(f"at most {BATCH_GET_LIMIT} keys per call")
        if not keys:
            return set()
        request: dict[str, Any] = {
            self._table: {
                "Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in dict.fromkeys(keys)],
                "ProjectionExpression": "pk, sk",
                "ConsistentRead": True,
            }
        }
        found: set[tuple[str, str]] = set()
        for attempt in range(MAX_ATTEMPTS):
            try:
                result = self._client.batch_get_item(RequestItems=request)
            except ClientError as exc:
                raise StorageError(str(exc)) from exc
            found.update((i["pk"]["S"], i["sk"]["S"]) for i in result.get("Responses", {}).get(self._table, []))
            request = result.get("UnprocessedKeys") or {}
            if not request:
                return found
            self._back_off(attempt)
        raise StorageError(f"batch_get_item left keys unprocessed after {MAX_ATTEMPTS} attempts")

    def put(self, records: Sequence[Imported]) -> None:
        if len(records) > BATCH_WRITE_LIMIT:
            raise ValueError(f"at most {BATCH_WRITE_LIMIT} records per call")
        if not records:
            return
        request: dict[str, Any] = {self._table: [{"PutRequest": {"Item": item_of(r)}} for r in records]}
        for attempt in range(MAX_ATTEMPTS):
            try:
                result = self._client.batch_write_item(RequestItems=request)
            except ClientError as exc:
                raise StorageError(str(exc)) from exc
            request = result.get("UnprocessedItems") or {}
            if not request:
                return
            self._back_off(attempt)
        raise StorageError(f"batch_write_item left items unprocessed after {MAX_ATTEMPTS} attempts")

    def _back_off(self, attempt: int) -> None:
        """Exponential back-off, as AWS advises for UnprocessedItems: 50 ms, doubling, at most 5 s."""
        self.retries += 1
        self._sleep(min(MAX_DELAY_S, BASE_DELAY_S * 2**attempt))
