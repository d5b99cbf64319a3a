"""The case list's paging cursors: only a cursor the API signed for this very query opens."""

from __future__ import annotations

import base64
import json
import random

import pytest

from npsloop.domain.cursors import InvalidCursor, open_cursor, sign_cursor
from npsloop.domain.links import SigningKeys

KEYS = SigningKeys(current=b"k" * 32, previous=b"p" * 32)
SCOPE = json.dumps(["u-anna.nowak", None, "open", "u-anna.nowak"])
START = {"pk": "CASE#inv-1", "sk": "CASE", "gsi1pk": "OWNER#u-anna.nowak", "gsi1sk": "open#2026-11-24T10:30:00Z#inv-1"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def forged_cursors() -> list[str]:
    genuine = sign_cursor(KEYS, SCOPE, START)
    payload, signature = genuine.split(".")
    rng = random.Random(20261201)
    other_json = [{"pk": {"S": "x"}}, ["a"], "text", 7, None, {"pk": 1}, {}, {"pk": "CASE#inv-9", "sk": "CASE"}]
    return [
        *(b64(rng.randbytes(rng.randint(1, 90))) for _ in range(20)),  # random bytes
        *(bytes(rng.randbytes(40)).decode("latin-1") for _ in range(5)),  # not even base64
        *(genuine[:cut] for cut in (1, 10, len(payload), len(payload) + 1, len(genuine) - 1)),  # truncated
        genuine + "A",
        f"{payload}.",
        f".{signature}",
        f"{payload}.{signature}.{signature}",
        f"{payload}.{b64(bytes(16))}",
        payload,  # the old, unsigned format
        sign_cursor(SigningKeys(current=b"x" * 32), SCOPE, START),  # signed with another key
        *(f"{b64(json.dumps(doc).encode())}.{signature}" for doc in other_json),  # other JSON, the real signature
        sign_cursor(KEYS, json.dumps(["u-piotr", None, "open", "u-piotr"]), START),  # another query's cursor
        f"{b64(json.dumps({**START, 'pk': 'CASE#inv-2'}).encode())}.{signature}",  # start key changed
        "%00",
        "\u00e9\u00e9.\u00e9",
    ]


def test_a_genuine_cursor_opens_to_its_start_key():
    assert open_cursor(KEYS, SCOPE, sign_cursor(KEYS, SCOPE, START)) == START


def test_a_cursor_signed_with_the_previous_key_still_opens():
    old = sign_cursor(SigningKeys(current=b"p" * 32), SCOPE, START)
    assert open_cursor(KEYS, SCOPE, old) == START


def test_no_next_page_no_cursor():
    assert sign_cursor(KEYS, SCOPE, None) is None


@pytest.mark.parametrize("cursor", forged_cursors())
def test_every_forged_or_corrupted_cursor_is_refused_with_a_reason(cursor):
    with pytest.raises(InvalidCursor, match="not a cursor this API gave out"):
        open_cursor(KEYS, SCOPE, cursor)
