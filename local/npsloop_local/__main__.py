"""``python -m npsloop_local``: start the local stack and serve until Ctrl-C.

Prints the base URL, the resolved outputs, the outbox directory, how to put an event and a dev
token for the JWT-guarded routes. A background thread drains the stack every half second, so
events put from other code are handled. ``--demo-data`` starts it on the data ``make demo`` saved
(:mod:`.demo_state`), its clock moving on from where the demo's ended; without it the stack starts
empty and says how to get data. ``python -m npsloop_local token [--sub ID] [--group G]`` prints a
dev token and exits (see :mod:`.auth`: never valid in AWS).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from . import auth, demo_state
from .clock import Clock
from .provision import Provisioner
from .stack import LocalStack
from .template import Resolver, Template

DRAIN_INTERVAL_SECONDS = 0.5
DEMO_STATE = Path(".local") / "demo-state"

EMPTY = """\
The stack starts empty: its pages have no answers, scores or cases yet. To get a year of them,
run `make demo` (about two and a half minutes; it saves its data), then `make local DEMO=1`.
Or put a business event on the bus (below) and answer the email it sends.
"""

DEMO_DATA = """\
Started on the demo's data ({items} items from {directory}); the clock carries on from where the
demo ended ({ended:%Y-%m-%d %H:%M} UTC, now {now:%Y-%m-%d %H:%M}). Open {url} and sign in as a persona
(below): the CX lead sees the whole network, the store manager KRK-02 its drop.
"""
EMPTY_NOTICE = (
    "This local stack has no data yet. To see a network of stores with a year of answers and cases, "
    "stop it, run make demo, then make local DEMO=1."
)

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
    parser.add_argument(
        "--demo-data", action="store_true", help="start on the data `make demo` saved (make local DEMO=1)"
    )
    parser.add_argument(
        "--state", type=Path, default=DEMO_STATE, help=f"where make demo saved it (default: {DEMO_STATE})"
    )
    return parser.parse_args(argv)


def _parameters(pairs: Sequence[str]) -> dict[str, str]:
    parameters = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param needs KEY=VALUE, got {pair!r}")
        parameters[key] = value
    return parameters


SIGN_IN = """\
Sign in in a browser, as a persona from routing.toml (the user pool's hosted sign-in, played locally:
authorisation code with PKCE; docs/roles.md says what each role sees):

    {url}

{personas}
"""

API_EXAMPLE = """\
The /api routes need a JWT (the template's JwtAuthorizer). A local dev token in the npsloop-analyst
group (every store's scores, no case), valid for 12 hours here and never in AWS (mint others with
`python -m npsloop_local token --sub ID --group GROUP`):

    TOKEN={token}
    curl -H "Authorization: Bearer $TOKEN" {url}{example_path}
"""


def _parse_token(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m npsloop_local token",
        description="Print a local dev JWT for the HTTP API's JWT authorizer (HS256, never valid in AWS).",
    )
    parser.add_argument("--template", default="template.yaml", help="SAM template (default: template.yaml)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="template parameter override")
    parser.add_argument("--sub", default="dev-user", help="subject (sub claim)")
    parser.add_argument("--email", default=None)
    parser.add_argument("--group", action="append", default=[], help="a cognito:groups entry (repeatable)")
    parser.add_argument("--ttl-minutes", type=int, default=int(auth.DEFAULT_TTL.total_seconds() // 60))
    parser.add_argument("--issuer", default=None, help="default: the template's JwtConfiguration issuer")
    parser.add_argument("--audience", default=None, help="default: the template's first JwtConfiguration audience")
    return parser.parse_args(argv)


def token_main(argv: Sequence[str]) -> int:
    args = _parse_token(argv)
    issuer, audience = args.issuer, args.audience
    if issuer is None or audience is None:
        found_issuer, found_audience = _template_jwt_configuration(args.template, _parameters(args.param))
        issuer = issuer or found_issuer
        audience = audience or found_audience
    print(
        auth.dev_token(
            args.sub,
            args.email,
            args.group,
            issuer=issuer,
            audience=audience,
            ttl=timedelta(minutes=args.ttl_minutes),
        )
    )
    return 0


def _template_jwt_configuration(path: str, parameters: dict[str, str]) -> tuple[str, str]:
    """The first JWT authorizer's issuer and audience, resolved against the template's parameters."""
    template = Template.load(path)
    resolver = Resolver(template, template.parameter_values(parameters), "eu-west-1", "123456789012", "npsloop-local")
    Provisioner(lambda _service: None, resolver).placeholders("AWS::Cognito::")  # the user pool's issuer and client
    for resource in template.resources_of_type("AWS::Serverless::HttpApi").values():
        authorizers = ((resource.get("Properties") or {}).get("Auth") or {}).get("Authorizers") or {}
        for name, spec in authorizers.items():
            if "JwtConfiguration" in spec:
                authorizer = auth.JwtAuthorizer.from_properties(name, resolver.resolve(spec))
                return authorizer.issuer, authorizer.audiences[0] if authorizer.audiences else auth.DEFAULT_AUDIENCE
    return auth.DEFAULT_ISSUER, auth.DEFAULT_AUDIENCE


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["token"]:
        return token_main(argv[1:])
    args = _parse(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("botocore", "boto3", "urllib3", "moto", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    clock: Clock | None = None
    saved: demo_state.DemoState | None = None
    if args.demo_data:
        try:
            saved = demo_state.read(args.state)
        except demo_state.MissingState as exc:
            print(f"python -m npsloop_local --demo-data: {exc}", file=sys.stderr)
            return 2
        clock = demo_state.OffsetClock(saved.ended_at)
    stack = LocalStack(
        template_path=args.template,
        parameters=_parameters(args.param),
        clock=clock,
        outbox_dir=args.outbox,
        region=args.region,
        port=args.port,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with stack:
        if saved is not None:
            saved = demo_state.load(stack, args.state)
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
        _print_data(stack, saved)
        if stack.sign_in is not None:
            personas = "\n".join(
                f"    {p.label_en:<34} {p.subject:<24} {' '.join(p.groups) or '(no group: own cases)'}"
                for p in stack.sign_in.personas
            )
            print(SIGN_IN.format(url=stack.sign_in.sign_in_url(), personas=personas))
        guarded = sorted(stack.jwt_authorizers)
        if guarded:
            example_path = next(
                (key.split(" ", 1)[1] for key in guarded if key.startswith("GET ") and "{" not in key), ""
            )
            example_path = example_path or guarded[0].split(" ", 1)[-1]
            print(
                API_EXAMPLE.format(
                    token=stack.dev_token(groups=["npsloop-analyst"]), url=stack.base_url, example_path=example_path
                )
            )
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


def _print_data(stack: LocalStack, saved: demo_state.DemoState | None) -> None:
    """What the stack holds: the demo's data, or nothing yet and how to get some (the sign-in page says so too)."""
    if saved is None:
        print(EMPTY)
        if stack.sign_in is not None:
            stack.sign_in.notice = EMPTY_NOTICE
        return
    page = "/dashboard" if "GET /dashboard" in stack.routes else "/cases"
    print(
        DEMO_DATA.format(
            items=saved.items,
            directory=saved.directory,
            ended=saved.ended_at,
            now=stack.clock.now(),
            url=stack.base_url + page,
        )
    )


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
