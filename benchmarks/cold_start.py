"""Cold start per handler: its import plus the imports of one real first invocation, as a ratio to
a bare ``import boto3`` measured in the same run.

1. Discover, once per handler in a fresh interpreter: import the handler and invoke it once with a
   sample event of its trigger, AWS answered by a stub on botocore's ``before-send`` hook (no
   network and no moto, which would import jinja2 and much else itself). The modules loaded by then,
   in load order, are what that cold start needs.
2. Time, in many fresh interpreters: ``import boto3``, then the handler file and the rest of that
   module list. A handler's ratio is taken in each interpreter, its whole time over its own
   ``import boto3`` a moment before, so a burst of load on this shared machine falls on both; every
   round runs each handler once, in a shuffled order, and the ratio printed is the median of the
   rounds'. (A bare ``import boto3`` in separate interpreters, paired by round, spread the ratios
   three times as wide.)

Prints median and spread (interquartile range, and min-max) in ms and as ratios. Figures are
printed, never asserted. ``python benchmarks/cold_start.py [--root DIR] [--rounds N]``; ``--root``
measures another checkout (for before/after figures).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("BENCH_COLD_ROUNDS", "21"))
TARGETS = {"api": 2.0, "respond": 2.0, "invite": 2.0}  # the rest: 1.5

ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "npsloop",
    "POWERTOOLS_METRICS_NAMESPACE": "npsloop",
    "STAGE": "bench",
    "TABLE_NAME": "npsloop-bench",
    "LINK_SECRET_ID": "npsloop-bench-links",
    "PSEUDONYM_SECRET_ID": "npsloop-bench-pseudonym",
    "PUBLIC_BASE_URL": "https://feedback.example.com",
    "SENDER_ADDRESS": "feedback@example.com",
    "SENDER_NAME": "Bench",
    "CONFIGURATION_SET": "npsloop-bench",
    "PARKING_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/invite-dlq",
    "DELIVERY_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/delivery-dlq",
    "SCORE_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/score-dlq",
    "ALERT_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/alert-dlq",
    "EXPORT_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/export-dlq",
    "PARKING_BUCKET": "npsloop-bench-parking",
    "EVENT_BUS_NAME": "npsloop-bench",
    "ALERTS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:npsloop-bench-alerts",
    "EXPORT_BUCKET": "npsloop-bench-export",
    "PAUSE_ON_ALARMS": "npsloop-dev-ses-bounce-rate",
    "ANALYSE_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/analyse-dlq",
    "USER_POOL_ID": "eu-west-1_bench",
    "REPORT_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/report-jobs",
    "REPORT_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/report-dlq",
    "JWT_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_bench",
    "JWKS_URL": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_bench/.well-known/jwks.json",
    "HOSTED_UI_URL": "https://npsloop-bench.auth.eu-west-1.amazoncognito.com",
    "APP_CLIENT_ID": "bench",
}


def _stream_event(score: int) -> dict:
    """A DynamoDB stream INSERT of a response, as Lambda delivers it (a detractor fires an alert)."""
    image = {
        "pk": {"S": "INV#bench000000000000000000000001"},
        "sk": {"S": "RESPONSE"},
        "entity": {"S": "response"},
        "invitation_id": {"S": "bench000000000000000000000001"},
        "program_id": {"S": "post-purchase-nps"},
        "program_version": {"N": "2"},
        "survey_type": {"S": "nps"},
        "customer_id": {"S": "C-1"},
        "locale": {"S": "pl"},
        "context": {"M": {"store": {"S": "KRK-02"}, "region": {"S": "south"}, "channel": {"S": "store"}}},
        "vip": {"BOOL": False},
        "score": {"N": str(score)},
        "comment": {"S": "Długo czekałem na obsługę"},
        "version": {"N": "1"},
        "created_at": {"S": "2026-11-20T10:15:00.000Z"},
        "updated_at": {"S": "2026-11-20T10:15:00.000Z"},
    }
    return {
        "Records": [
            {
                "eventID": "bench-1",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "eu-west-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1795170900,
                    "Keys": {"pk": image["pk"], "sk": image["sk"]},
                    "NewImage": image,
                    "SequenceNumber": "000000000000000000001",
                    "SizeBytes": 400,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
                "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/npsloop-bench/stream/2026-01-01T00:00",
            }
        ]
    }


def _http_event(path: str, query: dict[str, str], route: str, claims: dict | None = None) -> dict:
    """An HTTP API (payload 2.0) GET, with the JWT authoriser's claims when the route has one."""
    context = {
        "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "b"},
        "requestId": "bench",
        "routeKey": route,
        "stage": "$default",
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": "&".join(f"{key}={value}" for key, value in query.items()),
        "queryStringParameters": query or None,
        "headers": {"accept": "text/html,application/json"},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def _api_event() -> dict:
    event = _http_event(
        "/api/programs/post-purchase-nps/scores",
        {"from": "2026-11-01", "to": "2026-11-30"},
        "GET /api/programs/{program_id}/scores",
        claims={"sub": "bench", "cognito:groups": "[npsloop-admin]"},
    )
    return event | {"pathParameters": {"program_id": "post-purchase-nps"}}


def _report_job_event() -> dict:
    """An SQS batch of one report job, as the planner queues it (a store manager's weekly report)."""
    job = {
        "report_id": "store-weekly",
        "period": "2026-W47",
        "start": "2026-11-16",
        "end": "2026-11-22",
        "subject": "bench-manager",
        "email": "manager@example.com",
        "language": "pl",
        "time_zone": "Europe/Warsaw",
        "units": [{"kind": "store", "id": "KRK-02"}],
        "run": "2026-11-23T06:00:00Z",
        "groups": ["store-manager"],
    }
    return {"Records": [{"messageId": "bench-1", "body": json.dumps(job), "eventSource": "aws:sqs"}]}


def _sns_event(root: Path, message_file: str) -> dict:
    envelope = json.loads((root / "events/sns-envelope.json").read_text())
    envelope["Records"][0]["Sns"]["MessageId"] = "bench-1"
    envelope["Records"][0]["Sns"]["Message"] = (root / "events" / message_file).read_text()
    return envelope


def sample_event(root: Path, function: str) -> dict:
    """The event of one first invocation, in the shape the function's trigger delivers."""
    events = root / "events"
    scheduled = root / "tests/fixtures/aws/eventbridge-scheduled-event.json"
    if function == "invite":
        return json.loads((events / "order-completed.json").read_text())
    if function == "respond":
        return json.loads((events / "respond-get.json").read_text().replace("{{token}}", "bench-token"))
    if function == "api":
        return _api_event()
    if function == "delivery":
        return _sns_event(root, "ses-notification-delivery.json")
    if function == "guard":
        return json.loads((events / "sns-cloudwatch-alarm-ses-bounce-rate.json").read_text())
    if function in ("cases", "invite_sweep"):
        return json.loads(scheduled.read_text())
    if function == "web":  # a staff page without a session: the sign-in redirect
        return _http_event("/dashboard", {}, "GET /dashboard")
    if function == "report_planner":
        return {"report": "store-weekly"}
    if function == "report_worker":
        return _report_job_event()
    return _stream_event(score=2)  # score, alert, export, analyse


# Runs in a fresh interpreter: AWS answers every call with a plausible success, then the handler
# runs once; writes the modules loaded, in load order, to the file named by its third argument.
# An error of the invocation is reported (BENCH_COLD_VERBOSE=1), not fatal.
DISCOVER = r"""
import importlib.util, json, sys, traceback
import botocore.handlers
from botocore.awsrequest import AWSResponse

SECRET = json.dumps({"current": "c" * 32, "key": "k" * 32})
XML = {"Publish": "<PublishResponse><PublishResult><MessageId>m</MessageId></PublishResult></PublishResponse>"}
JSON = {
    "ListUsers": {"Users": []},
    "GetSecretValue": {"SecretString": SECRET, "Name": "s", "ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:s"},
    "SendEmail": {"MessageId": "m"},
    "PutEvents": {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]},
    "Query": {"Items": [], "Count": 0, "ScannedCount": 0},
    "BatchGetItem": {"Responses": {}, "UnprocessedKeys": {}},
    "SendMessage": {"MessageId": "m"},
}

class Raw:
    def __init__(self, body):
        self.body = body
    def stream(self, **_):
        yield self.body

def answer(request, event_name, **_):
    operation = event_name.rsplit(".", 1)[-1]
    if operation in XML:
        return AWSResponse(request.url, 200, {"content-type": "text/xml"}, Raw(XML[operation].encode()))
    body = json.dumps(JSON.get(operation, {})).encode()
    return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.0"}, Raw(body))

botocore.handlers.BUILTIN_HANDLERS.append(("before-send", answer))  # every session, as moto does

class Context:
    function_name = "bench"; function_version = "$LATEST"; memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"; aws_request_id = "bench"
    def get_remaining_time_in_millis(self):
        return 60_000

spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
try:
    module.lambda_handler(json.loads(sys.argv[2]), Context())
except Exception:
    traceback.print_exc()
with open(sys.argv[3], "w") as out:
    json.dump([name for name in sys.modules if name not in ("__main__", "app")], out)
"""

# One fresh interpreter: ``import boto3`` (the baseline), then the handler and the rest of its first
# invocation's modules; prints both times, from the same start.
TIMED = """import time, sys
t0 = time.perf_counter()
import boto3
t1 = time.perf_counter()
{body}
sys.stdout.write(repr((t1 - t0, time.perf_counter() - t0)))
"""
HANDLER_AND_FIRST_CALL = """import importlib, importlib.util
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
for name in {names!r}:
    if name not in sys.modules:
        try:
            importlib.import_module(name)
        except Exception:
            pass"""


def _environment(root: Path) -> dict[str, str]:
    path = os.pathsep.join([str(root / "layers/npsloop"), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, **ENVIRONMENT, "PYTHONPATH": path.rstrip(os.pathsep), "PYTHONDONTWRITEBYTECODE": "0"}


def first_invocation_modules(root: Path, function: str) -> list[str]:
    handler = root / "functions" / function / "app.py"
    event = json.dumps(sample_event(root, function))
    with tempfile.TemporaryDirectory() as scratch:
        listing = Path(scratch) / "modules.json"
        out = subprocess.run(
            [sys.executable, "-c", DISCOVER, str(handler), event, str(listing)],
            capture_output=True,
            text=True,
            check=True,
            env=_environment(root),
            cwd=root,
        )
        if out.stderr.strip() and os.environ.get("BENCH_COLD_VERBOSE"):
            print(f"   ({function}: {out.stderr.strip().splitlines()[-1]})")
        return json.loads(listing.read_text())


def _timed(code: str, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    probe = TIMED.format(body=code)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env, cwd=cwd)
    baseline, total = ast.literal_eval(out.stdout)
    return baseline, total


def _spread(values: list[float]) -> tuple[float, float, float, float, float]:
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return median, q1, q3, min(values), max(values)


def measure(root: Path = ROOT, rounds: int = ROUNDS) -> dict[str, dict[str, float]]:
    """Per handler: median, quartiles and extremes of its seconds and of its ratio to boto3 (per process)."""
    env = _environment(root)
    functions = sorted(path.parent.name for path in root.glob("functions/*/app.py"))
    probes = {}
    for function in functions:
        names = first_invocation_modules(root, function)
        probes[function] = HANDLER_AND_FIRST_CALL.format(
            path=str(root / "functions" / function / "app.py"), names=names
        )
    seconds: dict[str, list[float]] = {"boto3": [], **{name: [] for name in functions}}
    ratios: dict[str, list[float]] = {name: [] for name in functions}
    order = list(probes)
    for name in order:  # warm the bytecode and page caches
        _timed(probes[name], env, root)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            baseline, total = _timed(probes[name], env, root)
            seconds["boto3"].append(baseline)
            seconds[name].append(total)
            ratios[name].append(total / baseline)
    results = {}
    for name, values in seconds.items():
        median, q1, q3, low, high = _spread(values)
        row = {"median": median, "q1": q1, "q3": q3, "min": low, "max": high}
        if name != "boto3":
            r_median, r_q1, r_q3, r_low, r_high = _spread(ratios[name])
            row |= {"ratio": r_median, "ratio_q1": r_q1, "ratio_q3": r_q3, "ratio_min": r_low, "ratio_max": r_high}
        results[name] = row
    return results


def _ms(row: dict[str, float], low: str, high: str) -> str:
    return f"{row[low] * 1000:4.0f}-{row[high] * 1000:<4.0f}"


def report(root: Path = ROOT, rounds: int = ROUNDS) -> dict[str, dict[str, float]]:
    print(f"1. Cold start: handler import + a first invocation's imports ({rounds} interleaved rounds)")
    results = measure(root, rounds)
    print(f"   {'':<24}{'median':>9}  {'IQR ms':<9} {'min-max':<9}  ratio  {'IQR':<9}  {'min-max':<9}  target")
    for name, row in results.items():
        line = f"   {name if name != 'boto3' else 'import boto3 (baseline)':<24}{row['median'] * 1000:6.0f} ms"
        line += f"  {_ms(row, 'q1', 'q3')} {_ms(row, 'min', 'max')}"
        if name != "boto3":
            target = TARGETS.get(name, 1.5)
            line += f"  {row['ratio']:4.2f}x  {row['ratio_q1']:4.2f}-{row['ratio_q3']:4.2f}"
            line += f"  {row['ratio_min']:4.2f}-{row['ratio_max']:4.2f}"
            line += f"  <= {target:.1f}x {'ok' if row['ratio'] <= target else 'OVER'}"
        print(line)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    report(args.root.resolve(), args.rounds)


if __name__ == "__main__":
    main()
