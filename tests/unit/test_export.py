"""The analytics export with fakes: rows, pseudonyms, partitions, object keys, parking and failure reporting."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json

import boto3
import pytest
from botocore.stub import Stubber

from npsloop.adapters.pseudonym_secret import SecretPseudonymKey
from npsloop.adapters.s3_export import S3Export
from npsloop.adapters.secret_json import CachedSecret
from npsloop.changes import parse_change
from npsloop.domain.export import (
    ExportTable,
    InvitationRow,
    Pseudonymiser,
    ResponseRow,
    UnexportableChange,
    group_rows,
    redact,
    rows_for,
)
from npsloop.ports.export import ExportWriteFailed
from npsloop.services.export import ExportService
from npsloop_local.template import Template
from tests.conftest import ROOT
from tests.fakes_export import (
    MemoryBucket,
    RecordingParking,
    StaticPseudonymKey,
    invitation_image,
    response_image,
    stream_record,
)

KEY = b"unit-test-pseudonym-key"
pseudonym = Pseudonymiser(KEY)


def rows_of(record):
    return rows_for(parse_change(record), pseudonym)


@pytest.fixture
def bucket() -> MemoryBucket:
    return MemoryBucket()


@pytest.fixture
def parking() -> RecordingParking:
    return RecordingParking()


@pytest.fixture
def keys() -> StaticPseudonymKey:
    return StaticPseudonymKey(KEY)


@pytest.fixture
def service(keys, bucket, parking) -> ExportService:
    return ExportService(keys=keys, sink=bucket, parking=parking)


# ----- the schema -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logical_id", "model"), [("ResponsesGlueTable", ResponseRow), ("InvitationsGlueTable", InvitationRow)]
)
def test_the_row_models_have_exactly_the_glue_columns_in_order(logical_id, model):
    table = Template.load(ROOT / "template.yaml").resources[logical_id]["Properties"]["TableInput"]
    columns = [column["Name"] for column in table["StorageDescriptor"]["Columns"]]
    partitions = [column["Name"] for column in table["PartitionKeys"]]

    assert list(model.model_fields) == columns
    assert partitions == ["dt"]
    assert "dt" not in model.model_fields


# ----- rows ---------------------------------------------------------------------------------------


def test_an_inserted_response_becomes_one_row_with_segments_and_a_pseudonym():
    (row,) = rows_of(stream_record("INSERT", 101, new=response_image()))

    assert (row.table, row.dt, row.sequence_number) == (ExportTable.RESPONSES, "2026-11-20", "101")
    assert row.row.model_dump() == {
        "response_id": "inv1",
        "program_id": "post-purchase-nps",
        "program_version": 1,
        "survey_type": "nps",
        "customer_pseudonym": hmac.new(KEY, b"C-100234", hashlib.sha256).hexdigest(),
        "locale": "en-GB",
        "store": "online-uk",
        "region": "uk",
        "channel": "web",
        "context": {"store": "online-uk", "region": "uk", "channel": "web", "product": "espresso-machine"},
        "vip": False,
        "score": 9,
        "comment": "Quick delivery",
        "sentiment": None,
        "themes": [],
        "version": 1,
        "created_at": "2026-11-20T10:30:00.000Z",
        "updated_at": "2026-11-20T10:30:00.000Z",
        "deleted": False,
        "change_seq": "101".zfill(40),
    }


def test_a_changed_answer_is_a_new_row_with_the_new_score_and_version_in_the_first_answers_partition():
    old = response_image(score=9)
    new = response_image(score=3, version=2, comment=None, updated_at="2026-12-02T08:00:00.000Z")

    (row,) = rows_of(stream_record("MODIFY", 205, new=new, old=old))

    assert (row.row.score, row.row.version, row.row.comment, row.row.deleted) == (3, 2, None, False)
    assert row.dt == "2026-11-20"  # created_at decides the partition, as it decides the aggregate's day
    assert row.row.change_seq == "205".zfill(40)


def test_a_modify_that_changes_nothing_analysts_see_is_not_exported():
    old = response_image()
    new = response_image(alerted_rules=["detractor"])  # another function annotating the item

    assert rows_of(stream_record("MODIFY", 206, new=new, old=old)) == []


def test_a_removed_response_becomes_a_tombstone_with_the_old_images_fields():
    old = response_image(score=4, version=3)

    (row,) = rows_of(stream_record("REMOVE", 300, old=old))

    assert row.row.deleted is True
    assert (row.row.response_id, row.row.score, row.row.version) == ("inv1", 4, 3)
    assert row.dt == "2026-11-20"
    assert row.row.change_seq == "300".zfill(40)


def test_the_partition_is_the_utc_day_of_created_at():
    image = response_image(created_at="2026-11-30T23:30:00-02:00", updated_at="2026-11-30T23:30:00-02:00")

    (row,) = rows_of(stream_record("INSERT", 1, new=image))

    assert row.dt == "2026-12-01"
    assert row.row.created_at == "2026-12-01T01:30:00.000Z"


@pytest.mark.parametrize("status", ["sent", "skipped", "failed"])
def test_an_invitation_with_a_final_status_is_exported(status):
    image = invitation_image(status=status, skip_reason="no_email_consent" if status == "skipped" else None)

    (row,) = rows_of(stream_record("INSERT", 7, new=image))

    assert row.table is ExportTable.INVITATIONS
    assert row.dt == "2026-11-20"
    assert row.row.status == status
    assert row.row.store == "online-uk"


def test_a_pending_invitation_is_not_exported_and_its_completion_is():
    pending = invitation_image(status="pending", sent_at=None, lease_until="2026-11-20T10:20:00Z")
    sent = invitation_image(status="sent")

    assert rows_of(stream_record("INSERT", 10, new=pending)) == []
    (row,) = rows_of(stream_record("MODIFY", 11, new=sent, old=pending))
    assert (row.row.status, row.row.sent_at) == ("sent", "2026-11-20T10:15:01.000Z")


def test_a_later_delivery_status_is_exported_and_an_unchanged_final_invitation_is_not():
    sent = invitation_image(status="sent")
    delivered = invitation_image(status="sent", delivery_status="delivered", delivered_at="2026-11-20T10:16:00Z")

    (row,) = rows_of(stream_record("MODIFY", 12, new=delivered, old=sent))
    assert row.row.delivery_status == "delivered"
    assert rows_of(stream_record("MODIFY", 13, new=sent | {"opened": True}, old=sent)) == []


def test_a_removed_invitation_is_not_exported():
    assert rows_of(stream_record("REMOVE", 14, old=invitation_image())) == []


def test_no_email_phone_or_customer_id_reaches_a_row():
    image = response_image(
        comment="Call me on +48 600 100 200 or write to jane.doe@example.com please",
        context={"store": "online-uk", "region": "uk", "channel": "web", "contact": "jane.doe@example.com"},
    )
    invitation = invitation_image(email="jane.doe@example.com", phone="+447700900123")

    rows = rows_of(stream_record("INSERT", 1, new=image)) + rows_of(stream_record("INSERT", 2, new=invitation))

    text = json.dumps([row.row.model_dump() for row in rows])
    assert "jane.doe@example.com" not in text
    assert "600 100 200" not in text
    assert "+447700900123" not in text
    assert "C-100234" not in text
    assert rows[0].row.comment == "Call me on [phone] or write to [email] please"
    assert rows[0].row.context["contact"] == "[email]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Order ORD-2026-5531 came on 2026-11-20, rated 10/10", "Order ORD-2026-5531 came on 2026-11-20, rated 10/10"),
        ("tel. 600-100-200", "tel. [phone]"),
        ("(+44) 7700 900123 anytime", "([phone] anytime"),
        ("mail: a.b+c@shop.co.uk.", "mail: [email]."),
        (None, None),
    ],
)
def test_redaction_keeps_ordinary_numbers_and_removes_contact_details(text, expected):
    assert redact(text) == expected


def test_the_pseudonym_is_stable_per_customer_and_depends_on_the_key():
    other = Pseudonymiser(b"another-key")

    assert pseudonym("C-1") == pseudonym("C-1")
    assert pseudonym("C-1") != pseudonym("C-2")
    assert pseudonym("C-1") != other("C-1")
    assert "unit-test-pseudonym-key" not in repr(pseudonym)


def test_an_image_missing_a_field_is_unexportable_and_the_reason_names_the_field_not_its_value():
    image = response_image(comment="secret words")
    del image["score"]

    with pytest.raises(UnexportableChange) as raised:
        rows_of(stream_record("INSERT", 1, new=image))

    assert "score" in str(raised.value)
    assert "secret words" not in str(raised.value)


# ----- objects ------------------------------------------------------------------------------------


def _rows(*records):
    return [row for record in records for row in rows_of(record)]


def test_rows_are_grouped_by_table_and_day_in_stream_order():
    rows = _rows(
        stream_record("INSERT", 5, new=response_image("a")),
        stream_record("INSERT", 3, new=invitation_image("a")),
        stream_record("INSERT", 4, new=response_image("b", created_at="2026-12-01T00:00:00Z")),
        stream_record("INSERT", 2, new=response_image("c")),
    )

    objects = group_rows(rows)

    assert [(o.table.value, o.dt, [r.sequence_number for r in o.rows]) for o in objects] == [
        ("responses", "2026-11-20", ["2", "5"]),
        ("invitations", "2026-11-20", ["3"]),
        ("responses", "2026-12-01", ["4"]),
    ]
    key = objects[0].key
    assert key.startswith(f"responses/dt=2026-11-20/{'2'.zfill(40)}-{'5'.zfill(40)}-")
    assert key.endswith(".json.gz")


def test_the_key_and_body_depend_only_on_the_content():
    records = [stream_record("INSERT", n, new=response_image(f"r{n}")) for n in (1, 2, 3)]
    (first,) = group_rows(_rows(*records))
    (again,) = group_rows(_rows(*records))
    (without_middle,) = group_rows(_rows(records[0], records[2]))

    assert (first.key, first.body()) == (again.key, again.body())
    assert without_middle.key != first.key  # same first and last record, different content
    lines = gzip.decompress(first.body()).decode().splitlines()
    assert [json.loads(line)["response_id"] for line in lines] == ["r1", "r2", "r3"]


# ----- the service --------------------------------------------------------------------------------


def test_a_batch_writes_one_object_per_table_and_day(service, bucket):
    event = {
        "Records": [
            stream_record("INSERT", 1, new=invitation_image("a")),
            stream_record("INSERT", 2, new=response_image("a")),
            stream_record("INSERT", 3, new=response_image("b", created_at="2026-10-31T12:00:00Z")),
            stream_record("MODIFY", 4, new=response_image("a", score=2, version=2), old=response_image("a")),
        ]
    }

    assert service.handle(event) == {"batchItemFailures": []}

    assert sorted(key.rsplit("/", 1)[0] for key in bucket.objects) == [
        "invitations/dt=2026-11-20",
        "responses/dt=2026-10-31",
        "responses/dt=2026-11-20",
    ]
    assert [(r["response_id"], r["score"]) for r in bucket.rows("responses/dt=2026-11-20")] == [("a", 9), ("a", 2)]


def test_a_redelivered_batch_overwrites_the_same_objects(service, bucket):
    event = {"Records": [stream_record("INSERT", n, new=response_image(f"r{n}")) for n in (1, 2)]}

    service.handle(event)
    before = dict(bucket.objects)
    service.handle(event)

    assert bucket.objects == before
    assert len(bucket.puts) == 2


def test_a_poison_record_is_parked_with_its_reason_and_the_rest_are_exported(service, bucket, parking):
    broken = response_image("bad")
    del broken["program_id"]
    records = [
        stream_record("INSERT", 1, new=response_image("good1")),
        {"eventName": "INSERT", "dynamodb": {}},
        stream_record("INSERT", 3, new=broken),
        stream_record("INSERT", 4, new=response_image("good2")),
    ]

    assert service.handle({"Records": records}) == {"batchItemFailures": []}

    assert [r["response_id"] for r in bucket.rows()] == ["good1", "good2"]
    reasons = [reason for _, reason in parking.parked]
    assert len(reasons) == 2
    assert reasons[0].startswith("unreadable stream record")
    assert "program_id" in reasons[1]
    assert parking.parked[1][0] is records[2]


def test_a_failed_put_reports_the_lowest_sequence_number_of_the_failed_objects(service, bucket):
    records = [
        stream_record("INSERT", 11, new=response_image("a")),
        stream_record("INSERT", 12, new=response_image("b", created_at="2026-12-01T08:00:00Z")),
        stream_record("INSERT", 13, new=invitation_image("c")),
        stream_record("INSERT", 14, new=response_image("d", created_at="2026-12-01T09:00:00Z")),
        stream_record("INSERT", 15, new=response_image("e")),
    ]
    bucket.failing = ["responses/dt=2026-12-01/", "invitations/"]

    result = service.handle({"Records": records})

    assert result == {"batchItemFailures": [{"itemIdentifier": "12"}]}
    # the objects that did not fail are written; rewriting them on the retry is harmless
    assert [r["response_id"] for r in bucket.rows()] == ["a", "e"]


def test_the_failure_names_the_sequence_number_exactly_as_the_record_has_it(service, bucket):
    sequence = 49_660_000_000_000_000_000_123_456_789
    bucket.failing = ["responses/"]

    result = service.handle({"Records": [stream_record("INSERT", sequence, new=response_image())]})

    assert result == {"batchItemFailures": [{"itemIdentifier": str(sequence)}]}


def test_a_batch_of_only_unreadable_records_does_not_read_the_key(service, keys, parking):
    assert service.handle({"Records": [{"eventName": "INSERT"}]}) == {"batchItemFailures": []}
    assert keys.reads == 0
    assert len(parking.parked) == 1


def test_an_empty_event_writes_nothing(service, bucket):
    assert service.handle({}) == {"batchItemFailures": []}
    assert bucket.puts == []


# ----- adapters -----------------------------------------------------------------------------------


def test_the_s3_adapter_puts_the_object_and_turns_an_s3_error_into_a_write_failure():
    client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response(
            "put_object",
            {},
            {
                "Bucket": "analytics",
                "Key": "responses/dt=2026-11-20/a.json.gz",
                "Body": b"x",
                "ContentType": "application/gzip",
            },
        )
        stub.add_client_error("put_object", service_error_code="SlowDown", http_status_code=503)
        sink = S3Export("analytics", client)

        sink.put("responses/dt=2026-11-20/a.json.gz", b"x")
        with pytest.raises(ExportWriteFailed, match="SlowDown"):
            sink.put("responses/dt=2026-11-20/b.json.gz", b"y")


class _Secrets:
    """A Secrets Manager client answering GetSecretValue with a fixed JSON secret."""

    def __init__(self, value):
        self.value = value
        self.calls = []

    def get_secret_value(self, SecretId):
        self.calls.append(SecretId)
        return {"SecretString": json.dumps(self.value)}


def test_the_pseudonym_key_comes_from_the_secrets_key_field():
    secrets = _Secrets({"key": "s3cr3t"})
    key = SecretPseudonymKey("npsloop-pseudonym", CachedSecret("npsloop-pseudonym", client=secrets))

    assert key.pseudonym_key() == b"s3cr3t"
    assert secrets.calls == ["npsloop-pseudonym"]
    with pytest.raises(ValueError, match="no 'key'"):
        SecretPseudonymKey("npsloop-pseudonym", CachedSecret("npsloop-pseudonym", client=_Secrets({}))).pseudonym_key()


PLANTED = (
    "Pani Kasia była niemiła. PESEL 44051401359, IBAN PL61 1090 1014 0000 0712 1981 2874, "
    "karta 4111 1111 1111 1111, ul. Długa 5/12, 00-238 Warszawa, tel. 601 234 567, jan@wp.pl"
)


def test_an_unanalysed_comment_is_exported_masked_of_every_type_of_personal_data():
    (row,) = rows_of(stream_record("INSERT", 301, new=response_image(comment=PLANTED)))

    for value in ("Kasia", "44051401359", "PL61", "4111", "Długa", "601 234 567", "jan@wp.pl"):
        assert value not in row.row.comment
    assert "[pesel]" in row.row.comment and "[person_name]" in row.row.comment
    assert (row.row.sentiment, row.row.themes) == (None, [])


def test_the_analysis_brings_its_masked_text_sentiment_and_themes_into_a_new_row():
    from npsloop.domain.responses import text_hash

    old = response_image(comment=PLANTED)
    analysis = {
        "sentiment": "negative",
        "themes": ["staff"],
        "masked": "Pani [person_name] była niemiła. [rest masked]",
        "provider": "builtin",
        "model_version": "m1",
        "taxonomy_version": "t1",
        "analysed_text_hash": text_hash(PLANTED),
    }
    new = {**old, "analysis": analysis}

    (row,) = rows_of(stream_record("MODIFY", 302, new=new, old=old))

    assert (row.row.comment, row.row.sentiment, row.row.themes) == (analysis["masked"], "negative", ["staff"])
