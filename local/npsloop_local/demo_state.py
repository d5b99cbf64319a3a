"""The demo's data kept for browsing: ``make demo`` saves it, ``make local DEMO=1`` starts a stack with it.

What is kept is what the pages and the API read: the items of every DynamoDB table of the template
(answers, aggregates, cases, suppressions...), pickled from moto's in-process backend by logical id,
with the instant the demo's clock ended at. Loading puts them into the new stack's tables of the same
logical ids (whatever their physical names) without writing a stream record, so no consumer scores,
alerts or exports anything again; the stack's clock then starts where the demo's ended.

A pickle of moto's own item objects is the fastest way in and out (about a second each for the full
demo), and it is only ever read by the moto version that wrote it: another version is refused with
the command that makes a fresh one. Sent emails, queues and the export bucket are not kept (the demo
leaves the export in ``.local/export`` and the emails in ``.local/outbox``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import moto

from . import moto_peek, moto_pickle, moto_query
from .clock import Clock

if TYPE_CHECKING:
    from .stack import LocalStack

__all__ = ["DemoState", "MissingState", "OffsetClock", "load", "moto_table", "save"]

MANIFEST = "state.json"
REMAKE = "run `make demo` first (about two and a half minutes), then `make local DEMO=1`"


class MissingState(Exception):
    """No usable saved state: the message says what to run."""


@dataclass(frozen=True)
class DemoState:
    directory: Path
    ended_at: datetime
    tables: dict[str, int]  # logical id -> items

    @property
    def items(self) -> int:
        return sum(self.tables.values())


class OffsetClock:
    """The demo's end, then moving on with real time: what ``make local DEMO=1`` runs on."""

    def __init__(self, start: datetime, real: Clock | None = None) -> None:
        from npsloop.clock import SystemClock

        self._real = real or SystemClock()
        self._offset = start - self._real.now()

    def now(self) -> datetime:
        return self._real.now() + self._offset

    @property
    def offset(self) -> timedelta:
        return self._offset


def moto_table(stack: LocalStack, logical_id: str) -> Any:
    """moto's object for the stack's table ``logical_id`` (its items are the data kept)."""
    table = moto_peek.dynamodb_table(stack.dispatcher.resolver.account_id, stack.region, stack.physical_id(logical_id))
    if table is None:
        raise MissingState(f"the stack has no table {logical_id} in moto")
    return table


def _table_ids(stack: LocalStack) -> list[str]:
    return sorted(stack.template.resources_of_type("AWS::DynamoDB::Table"))


def save(stack: LocalStack, directory: Path) -> DemoState:
    """Write the stack's tables and its clock's instant to ``directory`` (replacing what was there)."""
    directory.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for logical_id in _table_ids(stack):
        table = moto_table(stack, logical_id)
        items = dict(table.items)
        with (directory / f"{logical_id}.pickle").open("wb") as out:
            moto_pickle.dump(items, out)
        counts[logical_id] = len(moto_peek.every_item(table))  # Table.all_items() would sort them all first
    ended_at = stack.clock.now()
    manifest = {"moto": moto.__version__, "ended_at": ended_at.isoformat(), "tables": counts}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return DemoState(directory, ended_at, counts)


def read(directory: Path) -> DemoState:
    """The saved state's manifest; MissingState (with what to run) when there is none or it is unusable."""
    path = directory / MANIFEST
    if not path.is_file():
        raise MissingState(f"no demo data in {directory}: {REMAKE}")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("moto") != moto.__version__:
        raise MissingState(
            f"the demo data in {directory} was saved by moto {manifest.get('moto')}, this is moto "
            f"{moto.__version__}: {REMAKE}"
        )
    return DemoState(directory, datetime.fromisoformat(manifest["ended_at"]), dict(manifest["tables"]))


def load(stack: LocalStack, directory: Path) -> DemoState:
    """Put the saved items into the running stack's tables, with no stream record (nothing runs again)."""
    state = read(directory)
    for logical_id in state.tables:
        if logical_id not in _table_ids(stack):
            raise MissingState(f"the template has no table {logical_id} any more: {REMAKE}")
        with (directory / f"{logical_id}.pickle").open("rb") as source:
            items = moto_pickle.load(source)  # our own file, see the module's docstring
        table = moto_table(stack, logical_id)
        table.items.clear()
        table.items.update(items)
        moto_query.forget(table)  # put in directly: no stream record marked them for its index
    return state
