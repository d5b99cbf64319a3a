"""The npsloop table's items of the scheduled reports: one claim per (report, period, recipient) and the
"stop sending me this report" preferences (docs/data-model.md).

- ``REPORT#<report>#<period>#<hash of the subject>`` / ``CLAIM``: taken with a conditional put that
  carries a lease (the invitations' pattern); the outcome (sent, skipped, opted_out, rejected) is set
  by its holder; released (deleted) only by its holder and only while pending, when nothing went out.
  Kept ``CLAIM_TTL`` after the run, so a schedule fired again for the same period sends nothing.
- ``REPORTPREF#<preference id>`` / ``STOP``: put when the person follows the email's stop link.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from npsloop.ports.reports import ReportClaim, ReportClaims, ReportPreferences

CLAIM_SK = "CLAIM"
STOP_SK = "STOP"
PENDING = "pending"
CLAIM_TTL = timedelta(days=400)  # beyond any re-run of a month's report; then DynamoDB's TTL deletes it


class ReportStorageError(Exception):
    """DynamoDB refused a request for a reason other than a failed condition."""


def claim_key(claim_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"REPORT#{claim_id}"}, "sk": {"S": CLAIM_SK}}


def preference_key(preference_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"REPORTPREF#{preference_id}"}, "sk": {"S": STOP_SK}}


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _conditional(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoReportClaims(ReportClaims):
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def claim(self, claim_id: str, token: str, now: datetime, lease_until: datetime) -> ReportClaim:
        item = {
            **claim_key(claim_id),
            "entity": {"S": "report_claim"},
            "status": {"S": PENDING},
            "claim_token": {"S": token},
            "claimed_at": {"S": _iso(now)},
            "lease_until_epoch": {"N": str(int(lease_until.timestamp()))},
            "ttl": {"N": str(int((now + CLAIM_TTL).timestamp()))},
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",  # the claim that stood in the way, without a read
            )
        except ClientError as exc:
            if not _conditional(exc):
                raise ReportStorageError(str(exc)) from exc
            held = exc.response.get("Item", {})
            if held.get("status", {}).get("S", PENDING) != PENDING:
                return ReportClaim.DONE
            if int(held.get("lease_until_epoch", {}).get("N", "0")) > int(now.timestamp()):
                return ReportClaim.IN_FLIGHT
            return ReportClaim.UNCONFIRMED
        return ReportClaim.CLAIMED

    def finish(self, claim_id: str, token: str, outcome: str, now: datetime) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=claim_key(claim_id),
                UpdateExpression="SET #status = :outcome, finished_at = :now REMOVE lease_until_epoch",
                ConditionExpression="claim_token = :token",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":outcome": {"S": outcome},
                    ":now": {"S": _iso(now)},
                    ":token": {"S": token},
                },
            )
        except ClientError as exc:
            if not _conditional(exc):
                raise ReportStorageError(str(exc)) from exc
            # Not ours any more: nothing to record (a claim is never taken over, so this is a lost race
            # with our own release, which cannot happen after a send).

    def release(self, claim_id: str, token: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=claim_key(claim_id),
                ConditionExpression="claim_token = :token AND #status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":token": {"S": token}, ":pending": {"S": PENDING}},
            )
        except ClientError as exc:
            if not _conditional(exc):
                raise ReportStorageError(str(exc)) from exc


class DynamoReportPreferences(ReportPreferences):
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def opted_out(self, preference_id: str) -> bool:
        try:
            found = self._client.get_item(
                TableName=self._table, Key=preference_key(preference_id), ProjectionExpression="pk"
            )
        except ClientError as exc:
            raise ReportStorageError(str(exc)) from exc
        return "Item" in found

    def opt_out(self, preference_id: str, at: datetime) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **preference_key(preference_id),
                    "entity": {"S": "report_preference"},
                    "stopped_at": {"S": _iso(at)},
                },
                ConditionExpression="attribute_not_exists(pk)",  # the first stop is the one kept
            )
        except ClientError as exc:
            if not _conditional(exc):
                raise ReportStorageError(str(exc)) from exc
