"""The demo summary's direct looks at moto's state give what the API gives."""

from __future__ import annotations

import boto3
from moto import mock_aws

from npsloop_local import moto_peek

ACCOUNT = "123456789012"
REGION = "eu-west-1"


@mock_aws
def test_bucket_objects_are_what_get_object_returns_for_every_listed_key():
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="export", CreateBucketConfiguration={"LocationConstraint": REGION})
    for key, body in {"responses/dt=2026-11-01/a.json": b"1", "invitations/dt=2026-11-02/b.json": b"22"}.items():
        s3.put_object(Bucket="export", Key=key, Body=body)
    s3.put_object(Bucket="export", Key="responses/dt=2026-11-01/a.json", Body=b"overwritten")

    listed = [entry["Key"] for entry in s3.list_objects_v2(Bucket="export")["Contents"]]
    through_the_api = {key: s3.get_object(Bucket="export", Key=key)["Body"].read() for key in listed}

    assert moto_peek.bucket_objects(ACCOUNT, "export") == through_the_api
    assert through_the_api["responses/dt=2026-11-01/a.json"] == b"overwritten"
    assert moto_peek.bucket_objects(ACCOUNT, "no-such-bucket") is None


@mock_aws
def test_table_items_are_the_scan_and_keep_picks_by_plain_attribute_values():
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    items = [
        {"pk": {"S": "AGG#x"}, "sk": {"S": "1"}, "n": {"N": "3"}},
        {"pk": {"S": "INV#a"}, "sk": {"S": "RESPONSE"}, "imported": {"BOOL": True}, "score": {"N": "9"}},
        {"pk": {"S": "INV#b"}, "sk": {"S": "RESPONSE"}, "tags": {"SS": ["x"]}, "score": {"N": "4"}},
    ]
    for item in reversed(items):  # not in key order
        dynamodb.put_item(TableName="t", Item=item)
    scanned = dynamodb.scan(TableName="t")["Items"]

    def key(item):
        return item["pk"]["S"], item["sk"]["S"]

    assert sorted(moto_peek.table_items(ACCOUNT, REGION, "t"), key=key) == sorted(scanned, key=key)
    assert moto_peek.table_items(ACCOUNT, REGION, "t") == scanned  # and in the Scan's order (by key)
    kept = moto_peek.table_items(ACCOUNT, REGION, "t", lambda i: not i["pk"].startswith("AGG") and "imported" not in i)
    assert kept == [next(i for i in scanned if i["pk"]["S"] == "INV#b")]
