"""The JSON API's replies: bodies, problems (``{"error", "message"}``) and validation reasons."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import ValidationError


def ok(body: Any, cache_control: str = "no-store") -> Response:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Cache-Control": cache_control},
    )


def problem(status: int, code: str, message: str) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": code, "message": message},
        headers={"Cache-Control": "no-store"},
    )


def reasons(exc: ValidationError, where: str = "request") -> str:
    """Each failed field with pydantic's message, e.g. ``period: Input should be 'day', 'week' or 'month'``.

    Fields spelled with an alias (``from_`` for ``from``) are named as the caller spelled them.
    """
    return "; ".join(
        f"{'.'.join(str(part).removesuffix('_') for part in error['loc']) or where}: {error['msg']}"
        for error in exc.errors()
    )
