"""moto items pickled for the demo's saved state and a forked part: the same items back, built without
moto's per-attribute size check (npsloop_local.moto_pickle)."""

from __future__ import annotations

import io
import pickle

import pytest
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

from npsloop_local import moto_pickle


def an_item(n: int) -> Item:
    attrs = {
        "pk": {"S": "AGG#p#store#2026-11"},
        "sk": {"S": f"2026-11-{n:02d}#KRK-02"},
        "n": {"N": str(n)},
        "m": {"M": {"x": {"L": [{"S": "ż"}, {"N": "1.5"}]}}},
        "b": {"B": b"\x00\x01"},
    }
    return Item(DynamoType(attrs["pk"]), DynamoType(attrs["sk"]), attrs)


def test_items_come_back_equal_with_moto_s_own_attribute_dict(monkeypatch):
    # GIVEN moto items, pickled
    items = {n: an_item(n) for n in range(1, 4)}
    data = moto_pickle.dumps(items)

    # WHEN they are loaded while LimitedSizeDict's size-checking __setitem__ would fail
    def refuse(self, key, value):
        raise AssertionError("re-measured on load")

    monkeypatch.setattr(LimitedSizeDict, "__setitem__", refuse)
    loaded = moto_pickle.load(io.BytesIO(data))
    monkeypatch.undo()

    # THEN each is the same item, its attributes still moto's dict (which checks sizes on later writes)
    assert {n: item.to_json() for n, item in loaded.items()} == {n: item.to_json() for n, item in items.items()}
    assert all(type(item.attrs) is LimitedSizeDict for item in loaded.values())
    # and a plain pickle of the same items does go through __setitem__ (what the module avoids)
    plain = pickle.dumps(items)
    monkeypatch.setattr(LimitedSizeDict, "__setitem__", refuse)
    with pytest.raises(AssertionError, match="re-measured"):
        pickle.loads(plain)
