"""The Athena named queries of template.yaml, run by DuckDB over what the export function wrote to (moto) S3.

The SQL is read from the template (never copied), the tables are the Glue tables' columns (also read
from the template), and the objects are the ones the export function wrote while the local stack
drained the table's stream. The results must equal the score function's aggregates.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import hmac
import json
import re
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from npsloop.clock import ManualClock
from npsloop.domain.aggregates import partition_of
from npsloop.domain.programs import load_programs
from npsloop_local import athena
from npsloop_local.stack import LocalStack
from npsloop_local.streams import lambda_stream_record
from npsloop_local.template import Template
from tests.conftest import ROOT, load_event
from tests.stack_support import sent_emails, tokens_in

TEMPLATE = Template.load(ROOT / "template.yaml")
MINIMUM_SAMPLE = 30  # the NpsByStoreQuery's enough_answers threshold
QUERIES = ("NpsByMonthQuery", "NpsByStoreQuery", "ResponseRateQuery")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")

STORES = {"online-uk": ("uk", "web"), "online-pl": ("pl", "web"), "app-de": ("de", "app"), "app-pl": ("pl", "app")}


def named_query(logical_id: str) -> str:
    return athena.named_query(TEMPLATE, logical_id)


def glue_columns(logical_id: str) -> dict[str, str]:
    return athena.glue_columns(TEMPLATE, logical_id)


# ----- traffic ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    customer_id: str
    email: str
    phone: str


class Traffic:
    """Orders, tickets and answers put through the stack the way customers and upstream systems would."""

    def __init__(self, stack, event, clock) -> None:
        self.stack = stack
        self.event = event
        self.clock = clock
        self.sent = 0
        self.counter = 0

    def order(self, customer: Customer, store: str, consent: bool = True) -> dict[int, str] | None:
        """An OrderCompleted event; the response links of the email it sends (None when skipped)."""
        self.counter += 1
        region, channel = STORES[store]
        payload = copy.deepcopy(self.event("order-completed.json"))
        now = self.clock.now()
        payload["id"] = f"00000000-0000-4000-8000-{self.counter:012d}"
        payload["time"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        detail = payload["detail"]
        detail.update(event_id=f"evt-ord-{self.counter}", order_id=f"ORD-{self.counter}")
        detail["occurred_at"] = (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        detail["customer"].update(id=customer.customer_id, email=customer.email, phone=customer.phone)
        detail["customer"]["consents"]["email"] = consent
        detail["context"].update(store=store, region=region, channel=channel)
        return self._invite(payload)

    def ticket(self, customer: Customer) -> dict[int, str] | None:
        self.counter += 1
        payload = copy.deepcopy(self.event("support-ticket-closed.json"))
        payload["id"] = f"00000000-0000-4000-9000-{self.counter:012d}"
        detail = payload["detail"]
        detail.update(event_id=f"evt-tkt-{self.counter}", ticket_id=f"TKT-{self.counter}")
        detail["occurred_at"] = (self.clock.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        detail["customer"].update(id=customer.customer_id, email=customer.email, phone=customer.phone)
        return self._invite(payload)

    def _invite(self, payload: dict[str, Any]) -> dict[int, str] | None:
        self.stack.invoke("InviteFunction", payload)
        messages = sent_emails(self.stack)
        if len(messages) == self.sent:
            return None
        self.sent = len(messages)
        links, _ = tokens_in(messages[-1])
        return links

    def answer(self, links: dict[int, str], score: int, comment: str | None = None) -> None:
        payload = self.event("respond-post.json", token=links[score])
        body = f"score={score}" + (f"&comment={urllib.parse.quote_plus(comment)}" if comment else "")
        payload["body"] = base64.b64encode(body.encode()).decode()
        reply = self.stack.invoke("RespondFunction", payload)
        assert reply["statusCode"] == 200, reply


def customer(n: int) -> Customer:
    return Customer(f"C-{700000 + n}", f"customer.{n}@example.com", f"+4860010{n:04d}")


@dataclass
class Exported:
    stack: Any
    directory: Path
    customers: list[Customer]

    def download(self) -> Path:
        """The export bucket's objects under ``directory``, keeping the ``<table>/dt=.../`` layout."""
        s3 = self.stack.client("s3")
        bucket = self.stack.physical_id("ExportBucket")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                target = self.directory / item["Key"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        return self.directory

    def run(self, query: str) -> list[dict[str, Any]]:
        return run_named_query(self.download(), query)

    def results(self) -> dict[str, list[dict[str, Any]]]:
        return {query: self.run(query) for query in QUERIES}

    def rows(self, table: str) -> list[dict[str, Any]]:
        self.download()
        return [
            json.loads(line)
            for path in sorted((self.directory / table).rglob("*.json.gz"))
            for line in gzip.decompress(path.read_bytes()).decode().splitlines()
        ]


def run_named_query(directory: Path, logical_id: str) -> list[dict[str, Any]]:
    return athena.run_named_query(TEMPLATE, directory, logical_id)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Iterator[Exported]:
    """Two months of orders at four stores and a support ticket: answers, changed answers, removed ones.

    Built once for the module (it takes seconds); the tests that replay batches only add duplicates,
    which is what they prove harmless.
    """
    directory = tmp_path_factory.mktemp("athena")
    clock = ManualClock(datetime(2026, 11, 20, 10, 30, tzinfo=UTC))
    with LocalStack(template_path=ROOT / "template.yaml", clock=clock, outbox_dir=directory / "outbox") as stack:
        people = [customer(n) for n in range(1, 25)]
        _put_traffic(Traffic(stack, load_event, clock), people)
        yield Exported(stack, directory / "export", people)


NOVEMBER = [
    ("online-uk", 10, "Great service, thanks"),
    ("online-uk", 9, None),  # changed to 4 an hour later
    ("online-uk", 3, "Late. Call me on +48 600 100 200 or mail customer.1@example.com"),
    ("online-pl", 8, "Dobrze"),
    ("online-pl", 0, "Paczka uszkodzona"),
    ("app-de", 10, None),
    ("app-de", 6, "Slow app"),
    ("app-pl", 9, None),
    ("app-pl", None, None),  # invited, never answered
    ("online-pl", None, None),
]
DECEMBER = [
    ("online-uk", 7, None),
    ("online-uk", 10, "Again great"),
    ("online-pl", 2, None),  # changed to 1, erased, then answered again with 8
    ("app-de", 9, None),
    ("app-de", 9, None),
    ("app-pl", 5, "Meh"),  # erased
    ("app-pl", None, None),
]


def _put_traffic(traffic: Traffic, people: list[Customer]) -> None:
    stack, clock = traffic.stack, traffic.clock
    waiting = iter(people)
    for month, answers in (("november", NOVEMBER), ("december", DECEMBER)):
        links: list[dict[int, str]] = []
        for store, score, comment in answers:
            sent = traffic.order(next(waiting), store)
            assert sent is not None, f"the {store} invitation was not sent"
            links.append(sent)
            if score is not None:
                traffic.answer(sent, score, comment)
        assert traffic.order(next(waiting), "online-uk", consent=False) is None  # a skipped invitation
        if month == "november":
            # a CES ticket for the first customer: the NPS queries leave it out; the pseudonym is the same
            ces = traffic.ticket(people[0])
            assert ces is not None
            traffic.answer(ces, 6)
            clock.advance(timedelta(hours=1))
            traffic.answer(links[1], 4, "Changed my mind")  # MODIFY
        else:
            clock.advance(timedelta(hours=1))
            traffic.answer(links[2], 1)
            _erase_response_of(stack, people[len(NOVEMBER) + 1 + 2])  # REMOVE of version 2
            traffic.answer(links[2], 8)  # a new version 1, after the tombstone
            _erase_response_of(stack, people[len(NOVEMBER) + 1 + 5])
        stack.drain()  # before the clock moves on: stream records expire after MaximumRecordAgeInSeconds
        clock.advance(timedelta(days=13))


def _erase_response_of(stack, person: Customer) -> None:
    (item,) = [r for r in _responses(stack) if r["customer_id"]["S"] == person.customer_id]
    stack.client("dynamodb").delete_item(TableName=stack.outputs["TableName"], Key={"pk": item["pk"], "sk": item["sk"]})


def _responses(stack) -> list[dict[str, Any]]:
    return [item for item in _items(stack, "INV#") if item["sk"]["S"] == "RESPONSE"]


def _items(stack, prefix: str) -> list[dict[str, Any]]:
    items = stack.client("dynamodb").scan(TableName=stack.outputs["TableName"], ConsistentRead=True)["Items"]
    return [item for item in items if item["pk"]["S"].startswith(prefix)]


# ----- expectations from the aggregates -----------------------------------------------------------


def nps(promoters: int, detractors: int, n: int) -> Decimal:
    return (Decimal(100 * (promoters - detractors)) / Decimal(n)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _counts(item: dict[str, Any]) -> Counter:
    return Counter({score: int(item[f"c{score}"]["N"]) for score in range(11) if f"c{score}" in item})


TRAFFIC_MONTHS = (date(2026, 11, 1), date(2026, 12, 1))  # _put_traffic: from 20 November, 13 days a month


def aggregate_counts(stack, program_id: str, dimension: str) -> dict[tuple[str, str], Counter]:
    """Score counts per (day, value) from the score function's aggregate items (one partition per month,
    ``AGG#<program>#<dimension>#<yyyy-mm>``), of every month the traffic ran."""
    paginator = stack.client("dynamodb").get_paginator("query")
    pages = [
        page
        for month in TRAFFIC_MONTHS
        for page in paginator.paginate(
            TableName=stack.outputs["TableName"],
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": partition_of(program_id, dimension, month)}},
            ConsistentRead=True,
        )
    ]
    found: dict[tuple[str, str], Counter] = {}
    for item in (item for page in pages for item in page["Items"]):
        day, value = item["sk"]["S"].split("#", 1)
        found[(day, value)] = _counts(item)
    assert found, f"no aggregates for {program_id}/{dimension}: is the score function running?"
    return found


def nps_row(counts: Counter) -> dict[str, Any]:
    n = sum(counts.values())
    promoters = counts[9] + counts[10]
    passives = counts[7] + counts[8]
    detractors = n - promoters - passives
    return {
        "responses": n,
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "nps": nps(promoters, detractors, n),
    }


def as_expected(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: Decimal(str(value)) if key == "nps" else value for key, value in row.items()} for row in rows]


# ----- tests --------------------------------------------------------------------------------------


def test_nps_by_month_equals_the_aggregates(exported):
    per_month: dict[str, Counter] = defaultdict(Counter)
    for (day, _), counts in aggregate_counts(exported.stack, "post-purchase-nps", "all").items():
        per_month[day[:7]] += counts
    expected = [
        {"program_id": "post-purchase-nps", "month": month, **nps_row(counts)}
        for month, counts in sorted(per_month.items())
        if sum(counts.values())
    ]

    result = as_expected(exported.run("NpsByMonthQuery"))

    assert [row["month"] for row in result] == ["2026-11", "2026-12"]
    assert result == expected
    # what the traffic says: 8 answers in November (one changed 9 -> 4); 6 in December, one erased, one
    # changed 2 -> 1, erased and answered again with 8
    assert [(row["responses"], row["promoters"], row["detractors"]) for row in result] == [(8, 3, 4), (5, 3, 0)]


def test_nps_by_store_equals_the_aggregates(exported):
    per_store: dict[str, Counter] = defaultdict(Counter)
    for (_, store), counts in aggregate_counts(exported.stack, "post-purchase-nps", "store").items():
        per_store[store] += counts
    expected = sorted(
        (
            {
                "program_id": "post-purchase-nps",
                "store": store,
                **nps_row(counts),
                "enough_answers": sum(counts.values()) >= MINIMUM_SAMPLE,
            }
            for store, counts in per_store.items()
            if sum(counts.values())
        ),
        key=lambda row: (not row["enough_answers"], -row["nps"], row["store"]),
    )

    result = as_expected(exported.run("NpsByStoreQuery"))

    assert {row["store"] for row in result} == set(STORES)
    assert result == expected


def test_nps_by_store_flags_stores_below_the_configured_minimum_sample_and_puts_them_last(exported):
    # A store with one promoter has NPS 100: without the flag it would top the table.
    sql = Template.load(ROOT / "template.yaml").resources["NpsByStoreQuery"]["Properties"]["QueryString"]
    thresholds = {int(k) for k in re.findall(r"count\(\*\) >= (\d+)", sql)}

    result = exported.run("NpsByStoreQuery")

    assert thresholds == {MINIMUM_SAMPLE} == {load_programs().statistics.minimum_sample}
    assert result and all(row["enough_answers"] is (row["responses"] >= MINIMUM_SAMPLE) for row in result)
    flags = [row["enough_answers"] for row in result]
    assert flags == sorted(flags, reverse=True)


def test_response_rate_counts_sent_invitations_and_their_live_responses(exported):
    invitations = [i for i in _items(exported.stack, "INV#") if i["sk"]["S"] == "INVITATION"]
    answered = {r["invitation_id"]["S"] for r in _responses(exported.stack)}
    per_month: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for item in invitations:
        if item["status"]["S"] != "sent":
            continue
        counts = per_month[(item["program_id"]["S"], item["created_at"]["S"][:7])]
        counts[0] += 1
        counts[1] += item["invitation_id"]["S"] in answered
    expected = [
        {
            "program_id": program,
            "month": month,
            "sent": sent,
            "responded": responded,
            "response_rate_pct": (Decimal(100 * responded) / sent).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
        }
        for (program, month), (sent, responded) in sorted(per_month.items())
    ]

    result = [
        {**row, "response_rate_pct": Decimal(str(row["response_rate_pct"]))}
        for row in exported.run("ResponseRateQuery")
    ]

    assert result == expected
    assert [(row["program_id"], row["month"], row["sent"], row["responded"]) for row in result] == [
        ("post-purchase-nps", "2026-11", 10, 8),
        ("post-purchase-nps", "2026-12", 7, 5),
        ("support-ces", "2026-11", 1, 1),
    ]


def test_the_export_holds_no_contact_details_and_no_customer_ids(exported):
    text = "\n".join(
        json.dumps(row, ensure_ascii=False) for table in ("responses", "invitations") for row in exported.rows(table)
    )

    assert text
    assert EMAIL.search(text) is None
    assert "600 100 200" not in text  # the phone number a customer typed into a comment
    for person in exported.customers:
        assert person.customer_id not in text
        assert person.email not in text
        assert person.phone not in text
        assert person.phone.removeprefix("+") not in text
    secret = exported.stack.client("secretsmanager").get_secret_value(
        SecretId=exported.stack.physical_id("PseudonymKeySecret")
    )
    assert json.loads(secret["SecretString"])["key"] not in text


def test_the_pseudonym_is_the_keyed_hmac_stable_per_customer(exported):
    secret = exported.stack.client("secretsmanager").get_secret_value(
        SecretId=exported.stack.physical_id("PseudonymKeySecret")
    )
    key = json.loads(secret["SecretString"])["key"].encode()
    first = exported.customers[0].customer_id
    expected = hmac.new(key, first.encode(), hashlib.sha256).hexdigest()

    rows = exported.rows("responses") + exported.rows("invitations")
    by_program = {row["program_id"] for row in rows if row["customer_pseudonym"] == expected}

    assert by_program == {"post-purchase-nps", "support-ces"}  # one customer, two programs, one pseudonym
    assert hmac.new(b"another key", first.encode(), hashlib.sha256).hexdigest() not in {
        row["customer_pseudonym"] for row in rows
    }
    assert (
        len({row["customer_pseudonym"] for row in exported.rows("responses")}) == 14
    )  # 14 NPS respondents, one of whom also answered CES


def test_the_objects_are_partitioned_by_the_utc_day_of_creation(exported):
    directory = exported.download()
    keys = sorted(path.relative_to(directory).as_posix() for path in directory.rglob("*.json.gz"))

    assert keys
    assert all(
        re.fullmatch(r"(responses|invitations)/dt=\d{4}-\d{2}-\d{2}/\d{40}-\d{40}-[0-9a-f]{12}\.json\.gz", k)
        for k in keys
    )
    days = {k.split("/")[1] for k in keys}
    assert days == {"dt=2026-11-20", "dt=2026-12-03"}
    for row in exported.rows("responses"):
        assert row["created_at"][:10] in {"2026-11-20", "2026-12-03"}


def test_the_changed_and_the_removed_answers_are_rows_the_queries_resolve(exported):
    rows = exported.rows("responses")
    changes: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:  # duplicates from replays collapse on change_seq
        changes[row["response_id"]][row["change_seq"]] = row
    history = {rid: [found[seq] for seq in sorted(found)] for rid, found in changes.items()}

    changed = next(h for h in history.values() if h[-1]["comment"] == "Changed my mind")
    erased = next(h for h in history.values() if h[0]["comment"] == "Meh")
    recreated = next(h for h in history.values() if len(h) == 4)

    # the change, then the comment analysis of its new text (issue 12): a row of the same version, with themes
    assert [(r["score"], r["version"], r["deleted"]) for r in changed] == [(9, 1, False), (4, 2, False), (4, 2, False)]
    assert changed[1]["sentiment"] is None and changed[2]["sentiment"] in {"positive", "negative", "neutral", "mixed"}
    assert [(r["score"], r["version"], r["deleted"]) for r in erased] == [(5, 1, False), (5, 1, True)]
    # answered, changed, erased (a tombstone of version 2), answered again (version 1): the last row wins
    assert [(r["score"], r["version"], r["deleted"]) for r in recreated] == [
        (2, 1, False),
        (1, 2, False),
        (1, 2, True),
        (8, 1, False),
    ]


def _stream_batch(stack) -> dict[str, Any]:
    """Every record of the table's stream that the ExportFunction's filters let through, as one batch."""
    streams = stack.client("dynamodbstreams")
    arn = stack.attribute("Table", "StreamArn")
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records.extend(lambda_stream_record(raw, arn, stack.region) for raw in page["Records"])
            iterator = page.get("NextShardIterator")

    def wanted(record: dict[str, Any]) -> bool:
        new = record["dynamodb"].get("NewImage", {}).get("entity", {}).get("S")
        old = record["dynamodb"].get("OldImage", {}).get("entity", {}).get("S")
        return new in {"response", "invitation"} or (record["eventName"] == "REMOVE" and old == "response")

    return {"Records": [record for record in records if wanted(record)]}


def test_replaying_stream_batches_does_not_change_the_results(exported):
    before = exported.results()
    batch = _stream_batch(exported.stack)
    assert len(batch["Records"]) > 20

    first = exported.stack.invoke("ExportFunction", batch)
    again = exported.stack.invoke("ExportFunction", batch)  # identical redelivery: the same objects again
    exported.stack.invoke("ExportFunction", {"Records": batch["Records"][len(batch["Records"]) // 3 :]})

    assert first == again == {"batchItemFailures": []}
    assert exported.results() == before
    assert len(exported.rows("responses")) > len({row["response_id"] for row in exported.rows("responses")})


def test_an_identical_redelivery_overwrites_its_own_objects(exported):
    batch = _stream_batch(exported.stack)
    exported.stack.invoke("ExportFunction", batch)
    keys = set(_object_keys(exported.stack))

    exported.stack.invoke("ExportFunction", batch)

    assert set(_object_keys(exported.stack)) == keys


def _object_keys(stack) -> list[str]:
    s3 = stack.client("s3")
    return [item["Key"] for item in s3.list_objects_v2(Bucket=stack.physical_id("ExportBucket")).get("Contents", [])]


def test_a_poison_record_is_parked_in_the_export_dlq_and_the_rest_are_exported(exported):
    stack = exported.stack
    answers = [r for r in _stream_batch(stack)["Records"] if r["dynamodb"]["Keys"]["sk"]["S"] == "RESPONSE"]
    poison = {"eventName": "INSERT", "eventID": "broken", "dynamodb": {"Keys": {}}}
    batch = {"Records": [answers[0], poison, answers[1]]}
    keys = set(_object_keys(stack))

    assert stack.invoke("ExportFunction", batch) == {"batchItemFailures": []}

    (parked,) = stack.dead_letters("ExportDeadLetterQueue")
    assert parked["eventID"] == "broken"
    (written,) = set(_object_keys(stack)) - keys  # the two answers, in an object of their own
    body = stack.client("s3").get_object(Bucket=stack.physical_id("ExportBucket"), Key=written)["Body"].read()
    assert len(gzip.decompress(body).splitlines()) == 2
