"""Each function loads only what it uses: importing its handler and building its service (what a
cold start does) leaves the heavy modules of the other functions unloaded (benchmarks/cold_start.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = {
    "jinja2": {"invite", "respond", "alert", "cases", "report_worker"},  # the functions that render
    "PIL": {"report_worker"},  # the reports' charts
    "aws_lambda_powertools.utilities.parser": {"invite"},
    "aws_lambda_powertools.utilities.parameters": set(),  # secrets: npsloop.adapters.secret_json
    "aws_lambda_powertools.event_handler": {"api", "respond", "web"},  # the HTTP functions
    "npsloop.services.invite": {"invite"},
    "npsloop.services.respond": {"respond", "web"},  # web: the pages' language choice and security headers
    "npsloop.notices": {"alert", "cases", "api", "web"},  # the case service names notices; API and web send none
    "npsloop.services.score": {"score"},
    "npsloop.services.alert": {"alert"},
    "npsloop.services.reports": {"report_planner", "report_worker"},
    "npsloop.services.analyse": {"analyse"},
    "numpy": {"analyse"},  # the comment model: only the analyse function loads it (the score function never)
    # powertools' event handler imports asyncio (its AppSync resolvers) and every event source's data
    # classes; the stream consumers read their records without either (npsloop.changes)
    "asyncio": {"api", "respond", "web"},
    "aws_lambda_powertools.utilities.data_classes": {"api", "respond", "web"},
    "phonenumbers": set(),  # imported where a number is read or checked (npsloop.text.masking, domain.contact)
    "stdnum": set(),
    # the front half's and the cases' models: ports name them for annotations only, and the stream consumers'
    # adapters share the table's item helpers (adapters.dynamodb_items), not the front half's repository
    "npsloop.domain.contact": {
        "alert",
        "api",
        "cases",
        "invite",
        "invite_sweep",
        "report_planner",
        "report_worker",
        "respond",
        "web",
    },
    "npsloop.domain.cases": {"alert", "api", "cases", "report_planner", "report_worker", "web"},
    # the programs (and their events' models): the brand, alert and roles configs import none of them
    "npsloop.domain.programs": {"api", "invite", "report_planner", "report_worker", "respond", "score", "web"},
    # the brand of what is sent and shown: the API's case service names notices but sends none
    "npsloop.domain.brand": {"alert", "cases", "invite", "report_planner", "report_worker", "respond", "web"},
    "npsloop.services.trends": {"web"},  # the cases function builds it in its factory, for the daily scan only
}
# The function's composition root, the service it builds on a cold start.
ROOTS = {
    "alert": "alert.alert_service",
    "analyse": "analyse.analyse_service",
    "api": "api.scores_service",
    "cases": "cases.sweep_service",
    "delivery": "delivery.delivery_service",
    "export": "export.export_service",
    "guard": "guard.sending_guard",
    "invite": "invite.invite_service",
    "invite_sweep": "invite_sweep.invitation_sweep",
    "respond": "respond.respond_service",
    "report_planner": "report_planner.planner",
    "report_worker": "report_worker.worker",
    "score": "score.score_service",
    "web": "web.sign_in",
}
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "STAGE": "test",
    "TABLE_NAME": "npsloop-test",
    "LINK_SECRET_ID": "links",
    "PSEUDONYM_SECRET_ID": "pseudonym",
    "PUBLIC_BASE_URL": "https://feedback.example.com",
    "SENDER_ADDRESS": "feedback@example.com",
    "CONFIGURATION_SET": "npsloop-test",
    "PARKING_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
    "DELIVERY_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
    "SCORE_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
    "ALERT_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
    "ANALYSE_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
    "EXPORT_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
    "PARKING_BUCKET": "parking",
    "EVENT_BUS_NAME": "bus",
    "ALERTS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:alerts",
    "EXPORT_BUCKET": "export",
    "PAUSE_ON_ALARMS": "alarm",
    "JWT_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
    "JWKS_URL": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json",
    "HOSTED_UI_URL": "https://npsloop-test.auth.eu-west-1.amazoncognito.com",
    "APP_CLIENT_ID": "client",
    "USER_POOL_ID": "eu-west-1_abc",
    "REPORT_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
    "REPORT_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
}
PROBE = """
import importlib, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
module, factory = sys.argv[2].split(".")
getattr(importlib.import_module("npsloop.wiring." + module), factory)()
print(json.dumps(sorted(name for name in json.loads(sys.argv[3]) if name in sys.modules)))
"""


def _loaded_after_cold_start(function: str) -> list[str]:
    env = {**os.environ, **ENVIRONMENT, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    handler = ROOT / "functions" / function / "app.py"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(handler), ROOTS[function], json.dumps(list(HEAVY))],
        capture_output=True,
        check=False,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_every_function_is_covered():
    assert set(ROOTS) == {path.parent.name for path in ROOT.glob("functions/*/app.py")}


@pytest.mark.parametrize("function", sorted(ROOTS))
def test_a_cold_start_loads_no_heavy_module_the_function_does_not_use(function):
    loaded = _loaded_after_cold_start(function)

    assert [name for name in loaded if function not in HEAVY[name]] == []


MASK = """
import json, sys
from npsloop.text.masking import mask
masked = mask(sys.argv[1])
print(json.dumps([masked.text, "phonenumbers" in sys.modules, "stdnum" in sys.modules]))
"""


@pytest.mark.parametrize(
    ("comment", "masked", "loads_number_libraries"),
    [
        (
            "Długo czekałem na obsługę, pani Anna była miła",
            "Długo czekałem na obsługę, pani [person_name] była miła",
            False,
        ),
        ("Proszę o telefon: 601 234 567", "Proszę o telefon: [phone]", True),
    ],
)
def test_masking_loads_the_number_libraries_only_for_a_comment_with_a_digit(comment, masked, loads_number_libraries):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run(
        [sys.executable, "-c", MASK, comment], capture_output=True, check=True, text=True, env=env, cwd=ROOT
    )

    assert json.loads(out.stdout) == [masked, loads_number_libraries, loads_number_libraries]
