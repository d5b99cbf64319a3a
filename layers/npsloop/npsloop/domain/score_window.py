"""The score function's tumbling-window state: a window's day deltas, carried by Lambda between invocations.

With ``TumblingWindowInSeconds`` on the event source, Lambda hands each invocation the ``state`` the
previous one returned, and at the window's end makes a final invocation (``isFinalInvokeForWindow``)
with the last state. The score function folds each batch's day deltas into the state and writes them
once, at the end: a key that 40 answers of a quarter of an hour touch costs one write, not one per
five-minute batch.

The state is plain JSON (Lambda keeps at most 1 MB of it per shard)::

    {"v": 1, "w": <checkpoint>, "f": <first>, "l": <last>, "d": {<pk>: {<sk>: {<attribute>: <amount>}}}}

- ``w``: the shard's checkpoint, the last sequence number already in the aggregates (read from the
  table when a window starts; "" if the shard has none);
- ``f`` / ``l``: the first and last sequence numbers folded into ``d`` since the last write. ``f``
  names the write's journal entries, so a retried final invocation (same state) meets them;
- ``d``: the deltas by item key, each attribute with the amount to ADD (``survey_type`` the one
  attribute SET, as a string).

A record at or before ``max(w, l)`` is already counted (Lambda may deliver a record twice, in rare
cases out of order) and is skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from npsloop.changes import SEQUENCE_WIDTH
from npsloop.domain.aggregates import FUNNEL_COUNTER, AggregateKey, DayDelta, Delta, FunnelDelta, partition_parts
from npsloop.domain.surveys import SurveyType
from npsloop.domain.themes import ThemeDelta

STATE_VERSION = 1
_SCORE_COUNTER = re.compile(r"^(n|commented|c[0-9]{1,2})$")
_FIXED = "survey_type"


def _ordered(sequence: str) -> str:
    return sequence.zfill(SEQUENCE_WIDTH)


@dataclass
class WindowState:
    checkpoint: str = ""
    first: str = ""
    last: str = ""
    deltas: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def load(cls, raw: Mapping[str, Any] | None) -> WindowState:
        if not raw:
            return cls()
        if raw.get("v") != STATE_VERSION:
            raise ValueError(f"a window state of version {raw.get('v')!r}, not {STATE_VERSION}")
        return cls(str(raw["w"]), str(raw["f"]), str(raw["l"]), dict(raw["d"]))

    def dump(self) -> dict[str, Any]:
        return {"v": STATE_VERSION, "w": self.checkpoint, "f": self.first, "l": self.last, "d": self.deltas}

    def size(self) -> int:
        """Bytes of the state as JSON (Lambda's limit is 1 MB per shard)."""
        return len(json.dumps(self.dump(), separators=(",", ":")).encode())

    def counted(self, sequence: str) -> bool:
        """Whether the record is already in the aggregates or in this state."""
        done = max(_ordered(self.checkpoint), _ordered(self.last))
        return bool(self.checkpoint or self.last) and _ordered(sequence) <= done

    def fold(self, sequence: str | None, deltas: Mapping[AggregateKey, DayDelta]) -> None:
        if sequence:
            self.first = self.first or sequence
            self.last = sequence
        for key, delta in deltas.items():
            item = self.deltas.setdefault(key.pk, {}).setdefault(key.sk, {})
            item.update(delta.fixed())
            for attribute, amount in delta.counters():
                item[attribute] = item.get(attribute, 0) + amount

    @property
    def pending(self) -> bool:
        """Records folded since the last write (their deltas may have summed to nothing)."""
        return bool(self.first)

    def updates(self) -> list[tuple[AggregateKey, DayDelta]]:
        """The deltas to write, in key order, those that summed to nothing left out."""
        found = []
        for key, attributes in _items(self.deltas):
            delta = day_delta_of(attributes)
            if not delta.is_zero:
                found.append((key, delta))
        return sorted(found, key=lambda pair: pair[0])

    def written(self) -> WindowState:
        """The state once its deltas are in the aggregates: the checkpoint moves to the last record."""
        return WindowState(checkpoint=self.last or self.checkpoint)


def _items(deltas: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> Iterator[tuple[AggregateKey, Mapping[str, Any]]]:
    for pk, days in deltas.items():
        program_id, dimension, _ = partition_parts(pk)
        for sk, attributes in days.items():
            day, value = sk.split("#", 1)
            yield AggregateKey(program_id, dimension, value, date.fromisoformat(day)), attributes


def day_delta_of(attributes: Mapping[str, Any]) -> DayDelta:
    """A day item's delta from its attributes: the score's, the funnel's (``f#``) and the themes' counters."""
    delta = DayDelta()
    survey_type = attributes.get(_FIXED)
    score: dict[str, int] = {}
    funnel: dict[str, int] = {}
    themes: dict[str, int] = {}
    for attribute, amount in attributes.items():
        if attribute == _FIXED or not amount:
            continue
        if _SCORE_COUNTER.match(attribute):
            score[attribute] = int(amount)
        elif attribute.startswith(FUNNEL_COUNTER):
            funnel[attribute.removeprefix(FUNNEL_COUNTER)] = int(amount)
        else:
            themes[attribute] = int(amount)
    if score:
        if survey_type is None:
            raise ValueError(f"score counters without a survey type: {sorted(score)}")
        counts = {int(name[1:]): k for name, k in score.items() if name.startswith("c") and name != "commented"}
        delta.add(
            Delta(SurveyType(survey_type), n=score.get("n", 0), counts=counts, commented=score.get("commented", 0))
        )
    if funnel:
        delta.add(FunnelDelta(funnel))
    if themes:
        delta.add(ThemeDelta(themes))
    return delta
