"""Our sample payloads, and the local stack's events, have the shapes AWS really sends.

The references are AWS's own samples (`sam local generate-event`, kept in tests/fixtures/aws/)
and the powertools parser models.
"""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model, EventBridgeModel

from tests.conftest import EVENTS, ROOT, load_event

AWS_SAMPLES = ROOT / "tests" / "fixtures" / "aws"
BUSINESS_EVENTS = sorted(
    p.name for p in EVENTS.glob("*.json") if not p.name.startswith(("respond", "unsubscribe", "ses-", "sns-"))
)  # ses-*/sns-*: SES reports and alarms via SNS (test_delivery.py, test_sending_guard.py)
HTTP_EVENTS = sorted(p.name for p in EVENTS.glob("*.json") if p.name.startswith(("respond", "unsubscribe")))


def aws_sample(name: str) -> dict:
    return json.loads((AWS_SAMPLES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", BUSINESS_EVENTS)
def test_business_event_samples_are_eventbridge_envelopes(name):
    sample = load_event(name)

    EventBridgeModel.model_validate(sample)
    # Delivered envelopes also carry "version": "0", which that older sample leaves out.
    assert set(sample) == set(aws_sample("eventbridge-scheduled-event.json")) | {"version"}


@pytest.mark.parametrize("name", HTTP_EVENTS)
def test_http_samples_are_api_gateway_v2_payloads(name):
    sample = load_event(name, token="abc.def.ghi")
    reference = aws_sample("http-api-proxy.json")

    APIGatewayProxyEventV2Model.model_validate(sample)
    assert sample["version"] == reference["version"] == "2.0"
    assert set(sample) <= set(reference)
    assert set(sample["requestContext"]) <= set(reference["requestContext"])
    assert set(sample["requestContext"]["http"]) == set(reference["requestContext"]["http"])


def test_the_put_events_example_uses_the_contract_of_a_sample():
    entries = json.loads((EVENTS / "put-events" / "order-completed.json").read_text(encoding="utf-8"))["Entries"]

    (entry,) = entries
    assert set(entry) == {"EventBusName", "Source", "DetailType", "Detail"}
    assert json.loads(entry["Detail"]) == load_event("order-completed.json")["detail"]
