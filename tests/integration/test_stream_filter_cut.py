"""Stream filters match the record cut to the fields a pattern names: the answers moto gives on the whole record."""

from __future__ import annotations

import itertools
import json

import pytest
from moto.events.models import EventPattern

from npsloop_local import streams
from npsloop_local.template import Template
from tests.conftest import ROOT


def template_patterns() -> list[str]:
    found = []
    for resource in Template.load(ROOT / "template.yaml").resources.values():
        for event in (resource.get("Properties") or {}).get("Events", {}).values():
            if event.get("Type") == "DynamoDB":
                found += [f["Pattern"] for f in event["Properties"].get("FilterCriteria", {}).get("Filters", [])]
    return found


EXTRA = [
    '{"$or": [{"dynamodb": {"NewImage": {"entity": {"S": ["case"]}}}}, {"eventName": ["REMOVE"]}]}',
    '{"dynamodb": {"NewImage": {"score": {"N": [{"numeric": ["<", 7]}]}}}}',
    '{"dynamodb": {"NewImage": {"comment": {"S": [{"exists": true}]}}}}',
    '{"dynamodb": {"NewImage": {"analysis": {"M": {"analysed_text_hash": {"S": [{"exists": false}]}}}}}}',
]


def test_the_analyse_filter_takes_commented_responses_without_an_analysis_only():
    [pattern] = [p for p in template_patterns() if "analysis" in p]
    matcher, paths = EventPattern.load(pattern), streams._named_paths(json.loads(pattern))
    taken = [r for r in records() if matcher.matches_event(streams._cut(r, paths))]
    assert taken and all(
        r["eventName"] != "REMOVE"
        and r["dynamodb"]["NewImage"]["entity"]["S"] == "response"
        and "comment" in r["dynamodb"]["NewImage"]
        and "analysis" not in r["dynamodb"]["NewImage"]
        for r in taken
    )
    assert len(taken) == 4  # INSERT and MODIFY, imported or not


def records() -> list[dict]:
    made = []
    for event_name, entity, imported, comment, analysed in itertools.product(
        ("INSERT", "MODIFY", "REMOVE"),
        ("response", "invitation", "case"),
        (None, True),
        (None, "Za drogo"),
        (False, True),
    ):
        image = {"pk": {"S": "INV#1"}, "sk": {"S": "R"}, "entity": {"S": entity}, "score": {"N": "5"}}
        if imported:
            image["imported"] = {"BOOL": True}
        if comment:
            image["comment"] = {"S": comment}
        if analysed:  # the analysis map as save_analysis writes it
            image["analysis"] = {
                "M": {
                    "sentiment": {"S": "negative"},
                    "themes": {"L": [{"S": "price"}]},
                    "analysed_text_hash": {"S": "ab12"},
                }
            }
        dynamodb = {"Keys": {"pk": image["pk"], "sk": image["sk"]}, "SequenceNumber": "1"}
        if event_name != "REMOVE":
            dynamodb["NewImage"] = image
        if event_name != "INSERT":
            dynamodb["OldImage"] = {**image, "score": {"N": "9"}}
        made.append({"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": dynamodb})
    return made


def test_every_pattern_decides_the_cut_record_as_moto_decides_the_whole_one():
    patterns = template_patterns() + EXTRA
    assert len(patterns) >= 5  # the template's score, alert and export filters, at least
    decided = 0
    for pattern in patterns:
        matcher, paths = EventPattern.load(pattern), streams._named_paths(json.loads(pattern))
        for record in records():
            whole = matcher.matches_event(record)
            assert matcher.matches_event(streams._cut(record, paths)) == whole, (pattern, record)
            decided += whole
    assert decided > 0  # some records pass, some do not


@pytest.mark.parametrize(
    "patterns",
    [
        tuple(template_patterns() + EXTRA),
        ('{"eventName": ["INSERT"]}', '{"eventName": ["REMOVE"]}'),  # cut alike, decided apart: each its own
    ],
)
def test_a_consumer_decides_each_record_as_moto_does_the_second_time_too(monkeypatch, patterns):
    """Filter results are remembered per pattern and distinct cut record: a remembered answer is moto's
    answer, and a consumer that outgrows its memory starts afresh and still decides alike."""
    consumer = streams.StreamConsumer(
        function=None,  # type: ignore[arg-type]  # only the filters are exercised
        stream_arn="arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/x",
        settings=streams.StreamSettings(filters=patterns),
        streams_client=None,
        clock=None,  # type: ignore[arg-type]
        region="eu-west-1",
        send_record=lambda *_: None,
    )
    monkeypatch.setattr(streams, "MATCHES_KEPT", 7)  # small: the memory fills and is cleared mid-way
    matchers = [EventPattern.load(p) for p in patterns]
    for _ in range(2):
        for record in records():
            assert consumer._passes_filters(record) == any(m.matches_event(record) for m in matchers), record
    assert 0 < len(consumer._matched) <= 7
