"""Pickle moto's DynamoDB items so that loading them does not re-check each one's size.

moto keeps an item's attributes in a ``LimitedSizeDict``, whose ``__setitem__`` re-measures every
attribute already set (to refuse an item over 400 KB). Unpickling a dict subclass sets its keys one by
one through that method, so loading ten thousand items measured each of them a dozen times over:
seconds for what was checked when the item was written. Here such a dict is pickled as its plain
contents and rebuilt with ``dict.update`` (C code, which does not call the subclass's ``__setitem__``):
the same object, built as fast as a dict. Used for the demo's saved state and for what a forked part
of the demo hands back (:mod:`.demo_state`, :mod:`.forked`).
"""

from __future__ import annotations

import copyreg
import io
import pickle
from typing import IO, Any

from moto.dynamodb.models.dynamo_type import LimitedSizeDict

__all__ = ["dump", "load"]


def _rebuilt(contents: dict[str, Any]) -> LimitedSizeDict:
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(attrs, contents)
    return attrs


def _reduce(attrs: LimitedSizeDict) -> tuple[Any, tuple[dict[str, Any]]]:
    return _rebuilt, (dict(attrs),)


def dump(obj: Any, out: IO[bytes]) -> None:
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = copyreg.dispatch_table.copy()
    pickler.dispatch_table[LimitedSizeDict] = _reduce
    pickler.dump(obj)


def dumps(obj: Any) -> bytes:
    out = io.BytesIO()
    dump(obj, out)
    return out.getvalue()


def load(source: IO[bytes]) -> Any:
    return pickle.load(source)  # noqa: S301 - only our own files (see the callers)
