"""docs/openapi.yaml describes the score API: a valid OpenAPI 3.1 document with the route the router serves."""

import yaml
from openapi_spec_validator import validate

from tests.conftest import ROOT


def test_the_openapi_document_is_valid_and_describes_the_scores_route():
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))

    validate(document)
    operation = document["paths"]["/api/programs/{program_id}/scores"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "program_id",
        "from",
        "to",
        "period",
        "group_by",
        "value",
        "min_sample",
    }
    assert set(operation["responses"]) == {"200", "400", "401", "403", "404"}
