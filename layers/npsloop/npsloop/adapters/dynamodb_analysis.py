"""Comment analyses on the response items of the npsloop table (``analysis``, a map).

The write is one conditional UpdateItem: the response must still carry the analysed comment (a
comment changed meanwhile gets its own analysis from its own stream record), and must have no
analysis of this text (the stream step) or none of this exact version (the backfill). A replay, or
an analysis of an older comment, is refused by DynamoDB and changes nothing: no stream record, no
second count in the theme aggregates.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from npsloop.adapters.dynamodb_aggregates import CLIENT_CONFIG
from npsloop.adapters.dynamodb_items import StorageError, _is_conditional_failure, _marshal, _unmarshal, response_key
from npsloop.domain.responses import Response, ResponseAnalysis
from npsloop.ports.text import AnalysisStore

_SAME_TEXT = "attribute_not_exists(#analysis) OR #analysis.#hash <> :hash"
_SAME_VERSION = (
    _SAME_TEXT
    + " OR #analysis.#provider <> :provider OR #analysis.#model <> :model OR #analysis.#taxonomy <> :taxonomy"
)


class DynamoAnalyses(AnalysisStore):
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb", config=CLIENT_CONFIG)

    def save_analysis(
        self, invitation_id: str, comment: str, analysis: ResponseAnalysis, *, other_versions: bool
    ) -> bool:
        names = {"#analysis": "analysis", "#comment": "comment", "#entity": "entity", "#hash": "analysed_text_hash"}
        values: dict[str, Any] = {
            ":analysis": {"M": _marshal(analysis.model_dump(mode="json"))},
            ":comment": {"S": comment},
            ":response": {"S": "response"},
            ":hash": {"S": analysis.analysed_text_hash},
        }
        unless = _SAME_TEXT
        if other_versions:
            names |= {"#provider": "provider", "#model": "model_version", "#taxonomy": "taxonomy_version"}
            values |= {
                ":provider": {"S": analysis.provider},
                ":model": {"S": analysis.model_version},
                ":taxonomy": {"S": analysis.taxonomy_version},
            }
            unless = _SAME_VERSION
        try:
            self._client.update_item(
                TableName=self._table,
                Key=response_key(invitation_id),
                UpdateExpression="SET #analysis = :analysis",
                ConditionExpression=f"#entity = :response AND #comment = :comment AND ({unless})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise StorageError(str(exc)) from exc
        return True

    def commented_responses(
        self, program_id: str | None, start: dict[str, Any] | None, page_size: int
    ) -> tuple[list[Response], dict[str, Any] | None]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "#entity = :response AND attribute_exists(#comment)",
            "ExpressionAttributeNames": {"#entity": "entity", "#comment": "comment"},
            "ExpressionAttributeValues": {":response": {"S": "response"}},
            "Limit": page_size,
        }
        if program_id is not None:
            request["FilterExpression"] += " AND #program = :program"
            request["ExpressionAttributeNames"]["#program"] = "program_id"
            request["ExpressionAttributeValues"][":program"] = {"S": program_id}
        if start:
            request["ExclusiveStartKey"] = start
        try:
            page = self._client.scan(**request)
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        responses = [Response.model_validate(_unmarshal(item)) for item in page.get("Items", [])]
        return responses, page.get("LastEvaluatedKey")
