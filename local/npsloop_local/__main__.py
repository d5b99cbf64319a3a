"""``python -m npsloop_local``: start the local stack and serve until Ctrl-C.

Prints the base URL, the resolved outputs, the outbox directory and how to put an event. A
background thread drains the stack every half second, so events put from other code are handled.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from .stack import LocalStack

DRAIN_INTERVAL_SECONDS = 0.5

AWS_EXAMPLE = """\
The emulated AWS answers on {aws} too, so the AWS CLI and any SDK can drive this stack:

    aws --endpoint-url {aws} --region {region} events put-events \\
        --cli-input-json file://events/put-events/order-completed.json
    aws --endpoint-url {aws} --region {region} dynamodb scan --table-name {table}

(any credentials do: e.g. AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local). The sent email
appears in the outbox within a second; open its links on {url}.
"""

EXAMPLE = """\
moto lives inside this process, so you can also drive the stack from Python, e.g. a script:

    import json
    from npsloop_local import LocalStack

    with LocalStack("template.yaml") as stack:
        entries = json.load(open("events/put-events/order-completed.json"))["Entries"]
        print(stack.put_events([{{**e, "EventBusName": stack.outputs["EventBusName"]}} for e in entries]))
        stack.drain()                    # runs the invite function (and its retries)
        print(stack.outbox)              # the .eml files it sent
        input(f"open the links on {{stack.base_url}}, then press Enter")

The bus of this running stack is {bus}; its HTTP API is served at {url}.
"""


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m npsloop_local", description=__doc__)
    parser.add_argument("--template", default="template.yaml", help="SAM template (default: template.yaml)")
    parser.add_argument("--port", type=int, default=3000, help="HTTP port on 127.0.0.1 (0: any free port)")
    parser.add_argument(
        "--aws-port", type=int, default=4566, help="serve the emulated AWS APIs on 127.0.0.1 too (0: don't)"
    )
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--outbox", default=None, help="where sent emails are written (.eml)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="template parameter override")
    parser.add_argument("--verbose", action="store_true", help="log every request and invocation")
    return parser.parse_args(argv)


def _parameters(pairs: Sequence[str]) -> dict[str, str]:
    parameters = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param needs KEY=VALUE, got {pair!r}")
        parameters[key] = value
    return parameters


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("botocore", "boto3", "urllib3", "moto", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stack = LocalStack(
        template_path=args.template,
        parameters=_parameters(args.param),
        outbox_dir=args.outbox,
        region=args.region,
        port=args.port,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with stack:
        outputs = stack.outputs
        print(f"npsloop local stack: {stack.base_url}")
        print("routes:", ", ".join(stack.routes) or "(none)")
        print("outputs:", json.dumps(outputs, indent=2))
        print(f"outbox: {Path(stack.outbox_dir).resolve()}")
        aws = _serve_aws(args.aws_port)
        if aws is not None:
            print(
                AWS_EXAMPLE.format(
                    aws=aws, region=args.region, table=outputs.get("TableName", "TABLE"), url=stack.base_url
                )
            )
        print(EXAMPLE.format(bus=outputs.get("EventBusName", "default"), url=stack.base_url))
        print("Serving; Ctrl-C to stop.", flush=True)
        shown: set[Path] = set()
        while not stop.wait(DRAIN_INTERVAL_SECONDS):
            stack.drain()
            for path in stack.outbox:
                if path not in shown:
                    shown.add(path)
                    print(f"email sent: {path}", flush=True)
        print("stopping")
    return 0


def _serve_aws(port: int) -> str | None:
    """moto's HTTP front end, in this process: it serves the very backends the stack provisioned.

    Requests through it skip the stack's per-request lock; that is fine for a person at a terminal.
    """
    if not port:
        return None
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return f"http://127.0.0.1:{port}"


if __name__ == "__main__":
    raise SystemExit(main())
