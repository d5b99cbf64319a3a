"""The table's item helpers: ``_marshal`` writes exactly what boto3's TypeSerializer writes."""

from __future__ import annotations

from decimal import Decimal, Rounded
from enum import StrEnum
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeSerializer

from npsloop.adapters.dynamodb_items import _marshal


class Reason(StrEnum):
    BOUNCE = "bounce"


VALUES: list[Any] = [
    "",
    "Świetna obsługa",
    True,
    False,
    0,
    -7,
    10**38 - 1,
    -(10**38) + 1,
    Decimal("1.25"),
    Reason.BOUNCE,
    {"store": "KRK-02", "nested": {"themes": ["staff", Reason.BOUNCE], "none": None, "n": 3}},
    [],
    {},
    [None, True, 1, "a", [2]],
    {"a", "b"},
    {1, 2},
    b"\x00\x01",
    Binary(b"x"),
    ("tuple", 1),
]


def test_marshal_writes_what_type_serializer_writes_and_drops_top_level_nones():
    document = {f"k{i}": value for i, value in enumerate(VALUES)} | {"absent": None}
    serializer = TypeSerializer()

    assert _marshal(document) == {k: serializer.serialize(v) for k, v in document.items() if v is not None}


@pytest.mark.parametrize(("value", "error"), [(1.5, TypeError), (10**38, Rounded), ({"deep": [0.5]}, TypeError)])
def test_marshal_refuses_what_type_serializer_refuses(value, error):
    with pytest.raises(error):
        TypeSerializer().serialize(value)
    with pytest.raises(error):
        _marshal({"value": value})
