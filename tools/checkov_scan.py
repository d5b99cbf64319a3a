"""Scan the translated template with checkov: every failed check fails the build, every skip needs a reason.

checkov reads CloudFormation, not SAM, so ``make validate`` first writes the template as SAM
translates it (tools/check_translated_template.py --output). Suppressions live in template.yaml as
``Metadata: checkov: skip: [{id, comment}]`` on each resource; SAM copies a function's Metadata to
the AWS::Lambda::Function it generates, so they reach the scanned file. A skip without a comment
counts as a failure. Runs in its own virtualenv (.venv-checkov, pinned by requirements-checkov.lock),
offline: ``--skip-download`` and ``BC_SKIP_MAPPING`` keep checkov from calling Prisma Cloud.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

NO_COMMENT = "No comment provided"  # what checkov's CloudFormation parser records for a skip without one


def main(path: str) -> int:
    checkov = Path(sys.executable).with_name("checkov")
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    run = subprocess.run(  # noqa: S603 - our own virtualenv's checkov on our own file
        [str(checkov), "--file", path, "--framework", "cloudformation", "--skip-download", "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    try:
        report = json.loads(run.stdout)
    except ValueError:
        print(run.stdout, run.stderr, sep="\n", file=sys.stderr)
        print("checkov: no report", file=sys.stderr)
        return 1
    results = report.get("results", {})
    failed = results.get("failed_checks", [])
    skipped = results.get("skipped_checks", [])
    unexplained = [
        s for s in skipped if (s.get("check_result", {}).get("suppress_comment") or "").strip() in {"", NO_COMMENT}
    ]
    for check in failed:
        print(f"checkov: FAILED {check['check_id']} {check['resource']}: {check['check_name']}")
    for check in unexplained:
        print(f"checkov: SKIPPED WITHOUT A REASON {check['check_id']} {check['resource']}")
    summary = report.get("summary", {})
    print(
        f"checkov: {summary.get('passed', 0)} passed, {summary.get('failed', 0)} failed, "
        f"{summary.get('skipped', 0)} skipped ({len(unexplained)} without a reason in template.yaml), "
        f"{summary.get('parsing_errors', 0)} parsing errors"
    )
    return 1 if failed or unexplained or summary.get("parsing_errors") else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
