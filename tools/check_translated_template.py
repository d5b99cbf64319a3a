"""Translate template.yaml with SAM's own translator and lint the CloudFormation it becomes.

`sam validate --lint` lints the SAM source, where some faults cannot be seen: a circular dependency
between a function's environment and the HTTP API that invokes it only exists after translation.
Runs in the aws-sam-cli virtualenv (it has samtranslator and cfn-lint): `make validate`.
``--output FILE`` also writes the translated template there, for checkov (tools/checkov_scan.py).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from cfnlint.api import ManualArgs, lint
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class _NoManagedPolicies:
    def load(self) -> dict:
        return {}


def main(path: str = "template.yaml", output: str | None = None) -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")  # the translator needs one; nothing is called
    template = yaml_parse(Path(path).read_text(encoding="utf-8"))
    for resource in template["Resources"].values():  # sam deploy uploads the artifacts
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in props:
                props[key] = "s3://artifacts/code.zip"
    cloudformation = transform(template, {}, _NoManagedPolicies())
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(json.dumps(cloudformation, indent=1), encoding="utf-8")
    matches = lint(json.dumps(cloudformation), config=ManualArgs(regions=["eu-west-1"]))
    for match in matches:
        print(f"translated template: {match.rule.id} {match.message} ({match.path_string})")
    errors = [m for m in matches if m.rule.id.startswith("E")]
    print(f"translated template: {len(cloudformation['Resources'])} resources, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    out = None
    if "--output" in args:
        at = args.index("--output")
        out = args[at + 1]
        del args[at : at + 2]
    sys.exit(main(*args, output=out))
