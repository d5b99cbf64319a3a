"""``GET /static/{name}``: the web app's own scripts and vendored libraries, served by the stack (no CDN).

Only the files shipped in ``npsloop/static`` are served, by exact name (no paths, so nothing else in
the package can be reached); anything else is a 404. A vendored library's file name carries its
version (``chart-4.5.1.umd.min.js``), so a browser may keep it for a year; our own scripts are
revalidated after an hour.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

router = APIGatewayHttpRouter()
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
ONE_YEAR = "public, max-age=31536000, immutable"
ONE_HOUR = "public, max-age=3600"
VERSIONED = re.compile(r"-\d+\.\d+\.\d+[.-]")  # chart-4.5.1.umd.min.js


@cache
def shipped() -> dict[str, str]:
    """Name -> text of every file under ``npsloop/static`` with a served type."""
    folder = resources.files("npsloop") / "static"
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.is_file() and any(entry.name.endswith(suffix) for suffix in TYPES)
    }


def url(name: str) -> str:
    """The path of a shipped file, for templates; an unknown name fails loudly at render time."""
    if name not in shipped():
        raise KeyError(f"no static file {name!r} in npsloop/static")
    return f"/static/{name}"


@router.get("/static/<name>")
def static_file(name: str) -> Response:
    body = shipped().get(name)
    if body is None:
        raise NotFoundError(name)
    suffix = name[name.rfind(".") :]
    return Response(
        status_code=200,
        content_type=TYPES[suffix],
        body=body,
        headers={
            "Cache-Control": ONE_YEAR if VERSIONED.search(name) else ONE_HOUR,
            "X-Content-Type-Options": "nosniff",
        },
    )
