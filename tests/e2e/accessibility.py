"""axe-core in the browser tests: inject the vendored, pinned copy (tests/vendor/README.md) and run it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core-4.14.1" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
BLOCKING = {"serious", "critical"}


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical axe violations of the page as it is now (its context must bypass the CSP:
    the pages allow no script, so the test's own script is injected around it)."""
    source = AXE.read_bytes()
    assert hashlib.sha256(source).hexdigest() == AXE_SHA256, "tests/vendor: axe.min.js is not the pinned copy"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=source.decode("utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5], "help": v["help"]}
        for v in result["violations"]
        if v.get("impact") in BLOCKING
    ]
