"""Readers of the source files: each yields ``(line, record)``, the line being where the record starts.

JSON: Delighted's API answers pages of objects (``[{...}, {...}]``); an export is one such array,
several concatenated, or JSON lines. Brackets, commas and whitespace between objects are skipped,
so all three read the same. Something that is not valid JSON is reported at its line and reading
resumes on the next line. CSV: a header row, then one record per row (UTF-8, with or without BOM).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SEPARATORS = " \t\r\n,[]"


@dataclass(frozen=True)
class Unreadable:
    """Not a record: bytes that do not parse. The run reports it as a reject."""

    reason: str


def read_json(path: Path) -> Iterator[tuple[int, Any]]:
    text = path.read_text(encoding="utf-8-sig")
    decoder = json.JSONDecoder()
    index, line, counted_to, end = 0, 1, 0, len(text)
    while True:
        while index < end and text[index] in _SEPARATORS:
            index += 1
        if index >= end:
            return
        line += text.count("\n", counted_to, index)
        counted_to = index
        try:
            value, after = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            yield line, Unreadable(f"not valid JSON ({exc.msg})")
            newline = text.find("\n", index)
            index = end if newline < 0 else newline + 1
            continue
        yield line, value
        index = after


def read_csv(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            return
        start = reader.line_num + 1
        for row in reader:
            if None in row:
                yield start, Unreadable(f"{len(row[None])} more cells than the header has columns")
            elif any(value is None for value in row.values()):
                yield start, Unreadable("fewer cells than the header has columns")
            else:
                yield start, row
            start = reader.line_num + 1
