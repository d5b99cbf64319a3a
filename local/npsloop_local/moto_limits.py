"""AWS's size limits where moto is laxer, so that the local stack refuses what AWS refuses.

- **EventBridge PutEvents**: the entries of one request must total less than 256 KB, each entry
  sized by AWS's documented rule ("Calculating Amazon EventBridge PutEvents event entry size":
  ``Time`` 14 bytes, ``Source``, ``DetailType``, ``Detail`` and each of ``Resources`` in UTF-8
  bytes). Over it, the whole request fails with ``ValidationException`` "Total size of the entries
  in the request is over the limit." (moto accepts any size).
- **SQS SendMessage**: body plus message attributes (name, data type and value), in UTF-8 bytes,
  at most the queue's ``MaximumMessageSize`` and never more than 256 KiB, whatever the queue says
  (docs/decisions.md: at least as strict as AWS, whichever default a region gives a new queue).
  moto compares the body's *characters* with the queue's maximum (1 MiB by default) and ignores
  the attributes. Over it: ``InvalidParameterValue``, as SQS answers.
- **SNS Publish**: message plus message attributes, in UTF-8 bytes, at most 256 KiB (a topic's
  default ``MaximumMessageSize``); moto counts the message's characters only. Over it:
  ``InvalidParameter`` "Invalid parameter: Message too long".
- **DynamoDB items**: at most 400 KB (409,600 bytes) by AWS's item-size rule: attribute names and
  values in UTF-8 bytes, numbers about one byte per two significant digits plus one, binary as its
  bytes, booleans and nulls one byte, lists and maps 3 bytes plus one byte per element. Checked for
  PutItem, the item an UpdateItem would leave (the update is undone), the Puts and Updates of a
  TransactWriteItems (through the same methods) and every Put of a BatchWriteItem before any is
  written. moto checks its own approximation (no list or map overhead) as attributes are set.
  Over it: ``ValidationException`` "Item size has exceeded the maximum allowed size" (UpdateItem:
  "Item size to update has exceeded the maximum allowed size").

moto already refuses, as AWS does, more than 100 items in TransactWriteItems; for TransactGetItems
it still has the old limit of 25, which is raised to AWS's 100 while the stack runs.
``install`` applies the patches (after :mod:`.moto_patches` wrapped ``put_events``) and
``uninstall`` removes them.
"""

from __future__ import annotations

import base64
import copy
import functools
import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any

import moto.dynamodb.responses as _dynamodb_responses
from moto.dynamodb.exceptions import ItemSizeTooLarge, ItemSizeToUpdateTooLarge
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.events.exceptions import ValidationException
from moto.events.models import EventsBackend
from moto.sns.exceptions import InvalidParameterValue as SnsInvalidParameter
from moto.sns.models import SNSBackend
from moto.sqs.exceptions import InvalidParameterValue as SqsInvalidParameterValue
from moto.sqs.models import SQSBackend

from .moto_transactions import _keys, _restore

__all__ = [
    "DYNAMODB_MAX_ITEM_BYTES",
    "EVENTBRIDGE_MAX_REQUEST_BYTES",
    "SNS_MAX_MESSAGE_BYTES",
    "SQS_MAX_MESSAGE_BYTES",
    "dynamodb_item_size",
    "install",
    "put_events_entry_size",
    "uninstall",
]

EVENTBRIDGE_MAX_REQUEST_BYTES = 256 * 1024
SQS_MAX_MESSAGE_BYTES = 256 * 1024
SNS_MAX_MESSAGE_BYTES = 256 * 1024
DYNAMODB_MAX_ITEM_BYTES = 400 * 1024
TRANSACTION_MAX_ITEMS = 100  # TransactWriteItems and TransactGetItems
EVENTS_TOO_LARGE = "Total size of the entries in the request is over the limit."

_originals: dict[str, Any] = {}


# ----- sizes, by AWS's rules -------------------------------------------------------------------


def put_events_entry_size(entry: Mapping[str, Any]) -> int:
    """The size EventBridge gives a PutEventsRequestEntry (its documented rule)."""
    size = 14 if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        if entry.get(name) is not None:
            size += _utf8(entry[name])
    return size + sum(_utf8(resource) for resource in entry.get("Resources") or [] if resource is not None)


def _attributes_size(attributes: Mapping[str, Any] | None) -> int:
    """SQS and SNS count each message attribute's name, data type and value."""
    size = 0
    for name, attribute in (attributes or {}).items():
        size += _utf8(name)
        for value in (attribute or {}).values():
            size += _binary_length(value) if isinstance(value, bytes) else _utf8(str(value))
    return size


def dynamodb_item_size(item: Mapping[str, Any]) -> int:
    """An item's size by DynamoDB's rule, from its AttributeValues (``{"name": {"S": "..."}}``)."""
    return sum(_utf8(name) + _value_size(value) for name, value in item.items())


def _value_size(value: Mapping[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return _utf8(inner)
    if kind == "N":
        return _number_size(str(inner))
    if kind == "B":
        return _binary_length(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(element) for element in inner)
    if kind == "NS":
        return sum(_number_size(str(element)) for element in inner)
    if kind == "BS":
        return sum(_binary_length(element) for element in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + _utf8(name) + _value_size(element) for name, element in inner.items())
    raise ValueError(f"unknown AttributeValue type {kind!r}")


def _number_size(number: str) -> int:
    mantissa = number.lower().split("e", 1)[0].lstrip("+-").replace(".", "")
    digits = len(mantissa.strip("0")) or 1
    return math.ceil(digits / 2) + 1


def _binary_length(value: Any) -> int:
    if isinstance(value, bytes | bytearray):
        return len(value)
    try:
        return len(base64.b64decode(value, validate=True))
    except ValueError:
        return _utf8(value)


def _utf8(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


# ----- EventBridge ------------------------------------------------------------------------------


def _limited_put_events(put_events: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(put_events)
    def limited(self: EventsBackend, events: list[dict[str, Any]]) -> Any:
        if sum(put_events_entry_size(entry) for entry in events) >= EVENTBRIDGE_MAX_REQUEST_BYTES:
            raise ValidationException(EVENTS_TOO_LARGE)
        return put_events(self, events)

    return limited


# ----- SQS and SNS ------------------------------------------------------------------------------


def _limited_send_message(send_message: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(send_message)

    @functools.wraps(send_message)
    def limited(self: SQSBackend, *args: Any, **kwargs: Any) -> Any:
        call = signature.bind(self, *args, **kwargs).arguments
        queue = self.get_queue(call["queue_name"])
        limit = min(int(queue.maximum_message_size), SQS_MAX_MESSAGE_BYTES)  # type: ignore[arg-type]
        size = _utf8(call["message_body"]) + _attributes_size(call.get("message_attributes"))
        if size > limit:
            raise SqsInvalidParameterValue(
                f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes."
            )
        return send_message(self, *args, **kwargs)

    return limited


def _limited_publish(publish: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(publish)

    @functools.wraps(publish)
    def limited(self: SNSBackend, *args: Any, **kwargs: Any) -> Any:
        call = signature.bind(self, *args, **kwargs).arguments
        size = _utf8(call["message"]) + _attributes_size(call.get("message_attributes"))
        if size > SNS_MAX_MESSAGE_BYTES:
            raise SnsInvalidParameter("Invalid parameter: Message too long")
        return publish(self, *args, **kwargs)

    return limited


# ----- DynamoDB ---------------------------------------------------------------------------------


def _limited_put_item(put_item: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(put_item)

    @functools.wraps(put_item)
    def limited(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        if dynamodb_item_size(signature.bind(self, *args, **kwargs).arguments["item_attrs"]) > DYNAMODB_MAX_ITEM_BYTES:
            raise ItemSizeTooLarge()
        return put_item(self, *args, **kwargs)

    return limited


def _limited_update_item(update_item: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(update_item)

    @functools.wraps(update_item)
    def limited(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        call = signature.bind(self, *args, **kwargs).arguments
        table = self.get_table(call["table_name"])
        hash_value, range_value = _keys(table, {"Key": call["key"]})
        before = copy.deepcopy(table.get_item(hash_value, range_value))
        stream_length = len(table.stream_shard.items) if table.stream_shard is not None else 0
        item = update_item(self, *args, **kwargs)
        if dynamodb_item_size(item.to_json()["Attributes"]) > DYNAMODB_MAX_ITEM_BYTES:
            _restore(table, hash_value, range_value, before)
            if table.stream_shard is not None:
                del table.stream_shard.items[stream_length:]
            raise ItemSizeToUpdateTooLarge()
        return item

    return limited


def _limited_batch_write_item(batch_write_item: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(batch_write_item)
    def limited(self: DynamoHandler) -> Any:
        for requests in self.body.get("RequestItems", {}).values():
            for request in requests:
                item = request.get("PutRequest", {}).get("Item")
                if item is not None and dynamodb_item_size(item) > DYNAMODB_MAX_ITEM_BYTES:
                    raise ItemSizeTooLarge()
        return batch_write_item(self)

    return limited


# ----- install ----------------------------------------------------------------------------------

_PATCHES: list[tuple[Any, str, Callable[[Callable[..., Any]], Callable[..., Any]]]] = [
    (EventsBackend, "put_events", _limited_put_events),
    (SQSBackend, "send_message", _limited_send_message),
    (SNSBackend, "publish", _limited_publish),
    (DynamoDBBackend, "put_item", _limited_put_item),
    (DynamoDBBackend, "update_item", _limited_update_item),
    (DynamoHandler, "batch_write_item", _limited_batch_write_item),
]


def install() -> None:
    _originals["TRANSACTION_MAX_ITEMS"] = _dynamodb_responses.TRANSACTION_MAX_ITEMS
    _dynamodb_responses.TRANSACTION_MAX_ITEMS = TRANSACTION_MAX_ITEMS
    for owner, name, wrap in _PATCHES:
        original = getattr(owner, name)
        _originals[f"{owner.__name__}.{name}"] = original
        setattr(owner, name, wrap(original))


def uninstall() -> None:
    for owner, name, _ in reversed(_PATCHES):
        setattr(owner, name, _originals.pop(f"{owner.__name__}.{name}"))
    _dynamodb_responses.TRANSACTION_MAX_ITEMS = _originals.pop("TRANSACTION_MAX_ITEMS")
