"""Serialise DynamoDB AttributeValues in moto's responses directly, not member by member.

moto 5.2 turns every response into JSON with a generic, model-driven serializer. For an
``AttributeValue`` (a structure of ten optional members: S, N, B, SS, NS, BS, M, L, NULL, BOOL)
it looks each of the ten members up through a chain of alias providers, for every attribute of
every item, recursively - most of the time of a GetItem, Query or GetRecords goes there.

While the local stack runs, an AttributeValue of a ``dynamodb`` / ``dynamodbstreams`` response
that is a plain one-key dict is converted in one pass, applying exactly what the generic
serializer applies per member type: strings (S, N, SS, NS items) through ``str`` (as moto's
string serializer does), blobs (B, BS items) base64-encoded with the serializer's own ``_base64``,
BOOL/NULL as they are, M and L recursively. Anything else (an unknown member, ``None``, a non-dict,
a response key transformer registered by some moto service) takes moto's own path.
tests/integration/test_local_stack_moto_patches.py checks the two agree on every member type.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.core.serialize import BaseJSONSerializer

__all__ = ["install", "uninstall"]

_original = BaseJSONSerializer._serialize_type_structure
_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})
_STRINGS = frozenset({"S", "N"})
_STRING_SETS = frozenset({"SS", "NS"})
_AS_IS = frozenset({"BOOL", "NULL"})


class _Fallback(Exception):
    """This value is not one the fast path handles exactly: use moto's serializer."""


def _string(value: Any) -> Any:
    # moto's _serialize_type_string: str(value) unless it is None, {} or []
    return str(value) if value not in [None, {}, []] else value


def _convert(serializer: Any, value: Any) -> dict[str, Any]:
    if type(value) is not dict or len(value) != 1:
        raise _Fallback
    ((kind, inner),) = value.items()
    if inner is None:
        raise _Fallback
    if kind in _STRINGS:
        return {kind: _string(inner)}
    if kind in _AS_IS:
        return {kind: inner}
    if kind == "M":
        if type(inner) is not dict:
            raise _Fallback
        return {"M": {name: _convert(serializer, item) for name, item in inner.items()}}
    if kind == "L":
        if type(inner) is not list:
            raise _Fallback
        return {"L": [_convert(serializer, item) for item in inner]}
    if kind in _STRING_SETS and type(inner) is list:
        return {kind: [_string(item) for item in inner]}
    if kind == "B" and isinstance(inner, str | bytes):
        return {"B": serializer._base64(inner)}
    if kind == "BS" and type(inner) is list and all(isinstance(item, str | bytes) for item in inner):
        return {"BS": [serializer._base64(item) for item in inner]}
    raise _Fallback


def _applies(serializer: Any, shape: Any, key: str) -> bool:
    if shape.name != "AttributeValue" or not key:
        return False
    if serializer.operation_model.service_model.service_name not in _SERVICES:
        return False
    picker = serializer._value_picker
    return not getattr(picker, "response_transformers", None)


@functools.wraps(_original)
def _fast_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
    if _applies(self, shape, key):
        try:
            converted = _convert(self, value)
        except _Fallback:
            pass
        else:
            serialized[self.get_serialized_name(shape, key)] = converted
            return
    _original(self, serialized, value, shape, key)


def install() -> None:
    BaseJSONSerializer._serialize_type_structure = _fast_structure  # type: ignore[method-assign]


def uninstall() -> None:
    BaseJSONSerializer._serialize_type_structure = _original  # type: ignore[method-assign]


def original_structure() -> Callable[..., None]:
    """moto's own method (for the equivalence tests)."""
    return _original
