"""Items of the npsloop table as every DynamoDB adapter of it writes them: keys, (un)marshalling,
timestamps, ``StorageError`` and the profile stamp.

Apart from ``dynamodb_table`` (invitations, responses, profiles) so that an adapter of another area
(cases, delivery, aggregates, analysis, import) imports no front-half model (docs/decisions.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

INVITATION_SK = "INVITATION"
RESPONSE_SK = "RESPONSE"
PROFILE_SK = "PROFILE"
EMAIL_SUPPRESSION_SK = "EMAIL"
CONTACT_SK = "CONTACT"


class StorageError(Exception):
    """DynamoDB refused a request for a reason other than a failed condition."""


def invitation_key(invitation_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"INV#{invitation_id}"}, "sk": {"S": INVITATION_SK}}


def response_key(invitation_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"INV#{invitation_id}"}, "sk": {"S": RESPONSE_SK}}


def profile_key(customer_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CUST#{customer_id}"}, "sk": {"S": PROFILE_SK}}


def suppression_key(address_key: str) -> dict[str, Any]:
    return {"pk": {"S": f"SUPP#{address_key}"}, "sk": {"S": EMAIL_SUPPRESSION_SK}}


def _epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# The largest whole number TypeSerializer writes as is (DynamoDB numbers have 38 digits of precision).
_EXACT_INT = 10**38


def _attribute(value: Any) -> dict[str, Any]:
    """``TypeSerializer().serialize(value)``, with the JSON-like types done inline (each item of an import
    is tens of values: boto3's per-value type probing was a fifth of the importer's own time)."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is bool:
        return {"BOOL": value}
    if kind is int and -_EXACT_INT < value < _EXACT_INT:
        return {"N": str(value)}
    if kind is dict:
        return {"M": {k: _attribute(v) for k, v in value.items()}}
    if kind is list:
        return {"L": [_attribute(v) for v in value]}
    if value is None:
        return {"NULL": True}
    return _serializer.serialize(value)  # subclasses (StrEnum), Decimal, sets, bytes, tuples: boto3's rules


def _marshal(document: dict[str, Any]) -> dict[str, Any]:
    return {k: _attribute(v) for k, v in document.items() if v is not None}


def _unmarshal(item: dict[str, Any]) -> dict[str, Any]:
    plain = {k: _deserializer.deserialize(v) for k, v in item.items()}
    return {k: int(v) if isinstance(v, Decimal) and v == v.to_integral_value() else v for k, v in plain.items()}


def _is_conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def stamp_profile_once(client: Any, table: str, customer_id: str, attribute: str, at: datetime) -> datetime:
    """Set a timestamp on the customer's profile unless it is set already; returns the one that stands.

    ``ALL_NEW``, not ``UPDATED_NEW``: whether an ``if_not_exists`` that kept the old value counts as
    "updated" is not specified (moto leaves it out), and the whole item answers either way.
    """
    try:
        result = client.update_item(
            TableName=table,
            Key=profile_key(customer_id),
            UpdateExpression="SET #at = if_not_exists(#at, :at), customer_id = :cid, entity = :entity",
            ExpressionAttributeNames={"#at": attribute},
            ExpressionAttributeValues={
                ":at": {"S": _iso(at)},
                ":cid": {"S": customer_id},
                ":entity": {"S": "customer"},
            },
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        raise StorageError(str(exc)) from exc
    return datetime.fromisoformat(result["Attributes"][attribute]["S"])
