"""Print, per function, the AWS actions its role allows that no test exercised: candidates for removal.

The local stack decides every AWS call a function makes by the function's role, as SAM translates
template.yaml (``npsloop_local.iam``), and records which statement, action and resource allowed each
call in ``.local/iam-usage.jsonl`` (``NPSLOOP_IAM_USAGE``; the test session starts it afresh). This
report reads the same translation and lists every (action, resource) of a function's own policies
that no recorded call used. The AWS managed policies SAM attaches (logs, X-Ray, stream reading)
serve the Lambda service, not the code, and are left out.

    python tools/iam_report.py [template.yaml] [usage.jsonl]

It always exits 0: a permission no test exercised may still be needed (a path no test takes); it
is for a person to judge.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "local"))

from npsloop_local.iam import function_roles, translate  # noqa: E402


def render(value: Any) -> str:
    """A resource as the template writes it: ``Table.Arn``, ``${Table.Arn}/index/*``, ``LinkSigningSecret``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, arg),) = value.items()
        if function == "Ref":
            return str(arg)
        if function == "Fn::GetAtt":
            return ".".join(arg) if isinstance(arg, list) else str(arg)
        if function == "Fn::Sub":
            if isinstance(arg, list):
                text, variables = arg[0], arg[1] if len(arg) > 1 else {}
                for name, inner in variables.items():
                    text = text.replace("${" + name + "}", render(inner))
                return text
            return str(arg)
    return json.dumps(value, separators=(",", ":"))


def unexercised(template: Path, usage: Path) -> dict[str, list[str]]:
    used = set()
    for line in usage.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            used.add((record["function"], record["policy"], record["statement"], record["action"], record["resource"]))
    report: dict[str, list[str]] = defaultdict(list)
    for function, (_, props) in sorted(function_roles(translate(template)).items()):
        for policy in props.get("Policies", []):
            statements = policy["PolicyDocument"].get("Statement", [])
            for index, statement in enumerate(statements if isinstance(statements, list) else [statements]):
                if statement.get("Effect", "Allow") != "Allow":
                    continue
                actions = statement.get("Action", [])
                resources = statement.get("Resource", [])
                resources = resources if isinstance(resources, list) else [resources]
                label = statement.get("Sid") or f"{policy['PolicyName']}[{index}]"
                for action in actions if isinstance(actions, list) else [actions]:
                    for number, resource in enumerate(resources):
                        if (function, policy["PolicyName"], index, action, number) not in used:
                            report[function].append(f"{action} on {render(resource)}  ({label})")
    return report


def main(template: str = "template.yaml", usage: str | None = None) -> int:
    usage_path = Path(usage or os.environ.get("NPSLOOP_IAM_USAGE") or ROOT / ".local" / "iam-usage.jsonl")
    print("IAM: what each function's role allows that no test exercised (candidates for removal)")
    if not usage_path.is_file():
        print(f"  no record of a test run yet ({usage_path}): run the tests (make test), then this again")
        return 0
    when = datetime.fromtimestamp(usage_path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    calls = sum(1 for line in usage_path.read_text(encoding="utf-8").splitlines() if line.strip())
    print(f"  from the test run recorded in {usage_path.name} ({when}, {calls} allowed-call records)")
    report = unexercised(Path(template), usage_path)
    functions = function_roles(translate(Path(template)))
    for function in sorted(functions):
        lines = report.get(function, [])
        print(f"  {function}: {'every permission exercised' if not lines else f'{len(lines)} unexercised'}")
        for line in lines:
            print(f"    - {line}")
    total = sum(len(lines) for lines in report.values())
    print(f"  {total} unexercised permission(s) in {len(report)} function(s); AWS managed policies are not listed")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
