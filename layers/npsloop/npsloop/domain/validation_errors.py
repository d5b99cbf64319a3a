"""A pydantic ``ValidationError`` said in one line per field (``sender_name.pl: String should have at
least 1 character``): how every config file (programs, brand, alerts, roles, reports, taxonomy) and
the report jobs name what is wrong. A module of its own, so that reading one config file does not
load the models of another (the alert function reads no programs)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def describe(errors: Iterable[Any]) -> list[str]:
    described = []
    for error in errors:
        parts: list[str] = []
        for item in error["loc"]:
            if isinstance(item, int) and parts:
                parts[-1] = f"{parts[-1]}[{item}]"
            else:
                parts.append(str(item))
        described.append(f"{'.'.join(parts) or '(file)'}: {error['msg']}")
    return described
