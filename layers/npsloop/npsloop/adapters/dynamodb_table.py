"""The npsloop DynamoDB table: invitations, responses, customer profiles and suppressions.

Single-table design (docs/data-model.md). Every write that must happen once is conditional, so
replays and concurrent deliveries cannot duplicate it.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from npsloop.adapters.dynamodb_answers import answer_index_keys
from npsloop.adapters.dynamodb_items import (
    CONTACT_SK,
    EMAIL_SUPPRESSION_SK,
    INVITATION_SK,
    PROFILE_SK,
    RESPONSE_SK,
    StorageError,
    _epoch,
    _is_conditional_failure,
    _iso,
    _marshal,
    _unmarshal,
    invitation_key,
    profile_key,
    response_key,
    stamp_profile_once,
    suppression_key,
)
from npsloop.domain.contact import CustomerContact
from npsloop.domain.invitations import CustomerProfile, Invitation, InvitationStatus
from npsloop.domain.responses import Answer, Response
from npsloop.observability import logger
from npsloop.ports import (
    ClaimOutcome,
    CustomerRepository,
    InvitationRepository,
    ResponseRepository,
    SendContext,
)

# Sparse GSI3 key of an invitation while a claim holds it (sorted by lease end): the stuck sweep's queue.
CLAIMED_INVITATIONS = "INVITATIONS#claimed"


def _invitation_item(invitation: Invitation) -> dict[str, Any]:
    document = invitation.model_dump(mode="json", exclude_none=True)
    document.update(entity="invitation", pk=f"INV#{invitation.invitation_id}", sk=INVITATION_SK)
    if invitation.lease_until is not None:
        document["lease_until_epoch"] = _epoch(invitation.lease_until)
        if invitation.status is InvitationStatus.PENDING:
            document["gsi3pk"] = CLAIMED_INVITATIONS
            document["gsi3sk"] = f"{_iso(invitation.lease_until)}#{invitation.invitation_id}"
    return _marshal(document)


def _invitation_from(item: dict[str, Any]) -> Invitation:
    return Invitation.model_validate(_unmarshal(item))


def _profile_from(item: dict[str, Any]) -> CustomerProfile:
    data = _unmarshal(item)
    contacted = {
        key.removeprefix("lc#"): datetime.fromtimestamp(value, UTC)
        for key, value in data.items()
        if key.startswith("lc#")
    }
    last_invitation = {key.removeprefix("li#"): value for key, value in data.items() if key.startswith("li#")}
    return CustomerProfile(
        customer_id=data["customer_id"],
        last_contacted=contacted,
        last_invitation=last_invitation,
        email_unsubscribed_at=data.get("email_unsubscribed_at"),
        objected_at=data.get("objected_at"),
    )


# Absent, or released by a claimant that sent nothing (pending without a claim token). A claim that is
# held, expired or not, belongs to its delivery and then to the stuck sweep: taking it over could send twice.
_CLAIMABLE = "attribute_not_exists(pk) OR (#status = :pending AND attribute_not_exists(claim_token))"


class DynamoTable(InvitationRepository, ResponseRepository, CustomerRepository):
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    # -- invitations ---------------------------------------------------------------------------
    def load_send_context(self, invitation_id: str, customer_id: str, address_key: str | None) -> SendContext:
        keys = [invitation_key(invitation_id), profile_key(customer_id)]
        if address_key:
            keys.append(suppression_key(address_key))
        found = self._batch_get(keys)
        by_kind = {(item["sk"]["S"], item["pk"]["S"].split("#", 1)[0]): item for item in found}
        invitation = by_kind.get((INVITATION_SK, "INV"))
        profile = by_kind.get((PROFILE_SK, "CUST"))
        return SendContext(
            invitation=_invitation_from(invitation) if invitation else None,
            profile=_profile_from(profile) if profile else None,
            address_suppressed=(EMAIL_SUPPRESSION_SK, "SUPP") in by_kind,
        )

    def _batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        items: list[dict[str, Any]] = []
        for _attempt in range(5):
            try:
                result = self._client.batch_get_item(RequestItems=request)
            except ClientError as exc:
                raise StorageError(str(exc)) from exc
            items.extend(result.get("Responses", {}).get(self._table, []))
            request = result.get("UnprocessedKeys") or {}
            if not request:
                return items
        raise StorageError("batch_get_item left keys unprocessed after 5 attempts")

    def record_skip(self, invitation: Invitation) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_invitation_item(invitation),
                ConditionExpression=_CLAIMABLE,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":pending": {"S": InvitationStatus.PENDING.value}},
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise StorageError(str(exc)) from exc
        return True

    def claim(
        self, invitation: Invitation, claim_token: str, lease_until: datetime, recontact_cutoff: datetime
    ) -> ClaimOutcome:
        """Two conditional writes, the invitation's claim and then the contact ledger's stamp; no transaction.

        A transaction would cost twice the write units of its two items (4 instead of 2 per invitation)
        for an atomicity the lease already gives: should the ledger refuse, the claim is dropped before
        returning; should the process die between the two writes, the invitation stays claimed, its
        event's retries find it in flight, and the invitation sweep settles it once the lease is over
        (failed as unconfirmed, its ledger stamp - if any - removed), as after any claim.
        """
        claimed = invitation.model_copy(update={"lease_until": lease_until})
        item = _invitation_item(claimed)
        item["claim_token"] = {"S": claim_token}
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression=_CLAIMABLE,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":pending": {"S": InvitationStatus.PENDING.value}},
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise StorageError(str(exc)) from exc
            current = self.get_invitation(invitation.invitation_id, consistent=True)
            return ClaimOutcome.ALREADY_FINAL if current is not None and current.is_final() else ClaimOutcome.IN_FLIGHT
        try:
            stamped = self._stamp_ledger(invitation, recontact_cutoff)
        except StorageError:
            with contextlib.suppress(StorageError):  # a claim that stays is settled by the sweep
                self._drop_claim(invitation, claim_token)  # nothing went out: a retry may claim it again
            raise
        if not stamped:
            self._drop_claim(invitation, claim_token)
            return ClaimOutcome.RECONTACT_BLOCKED
        return ClaimOutcome.CLAIMED

    def _stamp_ledger(self, invitation: Invitation, recontact_cutoff: datetime) -> bool:
        """Stamp the customer's contact ledger with this invitation, unless another was sent too recently."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=profile_key(invitation.customer_id),
                UpdateExpression="SET #lc = :now, #li = :inv, customer_id = :cid, entity = :entity",
                ConditionExpression="attribute_not_exists(#lc) OR #lc < :cutoff OR #li = :inv",
                ExpressionAttributeNames={"#lc": f"lc#{invitation.program_id}", "#li": f"li#{invitation.program_id}"},
                ExpressionAttributeValues={
                    ":now": {"N": str(_epoch(invitation.created_at))},
                    ":inv": {"S": invitation.invitation_id},
                    ":cid": {"S": invitation.customer_id},
                    ":cutoff": {"N": str(_epoch(recontact_cutoff))},
                    ":entity": {"S": "customer"},
                },
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise StorageError(str(exc)) from exc
        return True

    def _drop_claim(self, invitation: Invitation, claim_token: str) -> None:
        """Our claim off the invitation, which stays pending: claimable again (or skippable)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=invitation_key(invitation.invitation_id),
                UpdateExpression="REMOVE claim_token, lease_until, lease_until_epoch, gsi3pk, gsi3sk",
                ConditionExpression="claim_token = :token",
                ExpressionAttributeValues={":token": {"S": claim_token}},
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):  # not ours any more: its holder or the sweep decides
                raise StorageError(str(exc)) from exc

    def mark_sent(self, invitation: Invitation, claim_token: str) -> None:
        self._store_claimed(invitation, claim_token)

    def _store_claimed(self, invitation: Invitation, claim_token: str) -> None:
        """Put the whole item (we hold the claim, so we know it all): the same write units as an update."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_invitation_item(invitation),
                ConditionExpression="claim_token = :token",
                ExpressionAttributeValues={":token": {"S": claim_token}},
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                # Our lease ran out and another delivery took over: it records its own send.
                logger.warning("claim lost before marking sent", invitation_id=invitation.invitation_id)
                return
            # The email is out. Raising would have Lambda retry, and the retry would send it again:
            # a stale "pending" status is the lesser harm (its links work; a sweep can repair it).
            logger.error(
                "invitation status not recorded", invitation_id=invitation.invitation_id, error=type(exc).__name__
            )

    def mark_failed(self, invitation: Invitation, claim_token: str) -> None:
        self._store_claimed(invitation, claim_token)
        self._unstamp_ledger(invitation)

    def _unstamp_ledger(self, invitation: Invitation) -> None:
        """Take the invitation's stamp off the customer's contact ledger, if it is still its stamp."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=profile_key(invitation.customer_id),
                UpdateExpression="REMOVE #lc, #li",
                ConditionExpression="#li = :inv",
                ExpressionAttributeNames={"#lc": f"lc#{invitation.program_id}", "#li": f"li#{invitation.program_id}"},
                ExpressionAttributeValues={":inv": {"S": invitation.invitation_id}},
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):  # removed already, or a later invitation stamped it: leave it
                raise StorageError(str(exc)) from exc

    def release(self, invitation: Invitation, claim_token: str) -> None:
        # Ledger first: should the second write fail, the invitation stays claimed and the sweep
        # settles it; the other order could leave a customer blocked with no invitation to show for it.
        self._unstamp_ledger(invitation)
        self._drop_claim(invitation, claim_token)

    def stuck(self, lease_expired_before: datetime, limit: int) -> list[tuple[Invitation, str]]:
        try:
            result = self._client.query(
                TableName=self._table,
                IndexName="GSI3",
                KeyConditionExpression="gsi3pk = :pk AND gsi3sk < :before",
                ExpressionAttributeValues={
                    ":pk": {"S": CLAIMED_INVITATIONS},
                    ":before": {"S": _iso(lease_expired_before)},
                },
                Limit=limit,
            )
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        return [(_invitation_from(item), item["claim_token"]["S"]) for item in result.get("Items", [])]

    def settle_stuck(self, invitation: Invitation, claim_token: str) -> bool:
        self._unstamp_ledger(invitation)  # first, so a crash in between is repaired by the next sweep
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_invitation_item(invitation.model_copy(update={"lease_until": None})),
                ConditionExpression="claim_token = :token AND #status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":token": {"S": claim_token},
                    ":pending": {"S": InvitationStatus.PENDING.value},
                },
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise StorageError(str(exc)) from exc
        return True

    def get_invitation(self, invitation_id: str, consistent: bool = False) -> Invitation | None:
        try:
            result = self._client.get_item(
                TableName=self._table, Key=invitation_key(invitation_id), ConsistentRead=consistent
            )
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        item = result.get("Item")
        return _invitation_from(item) if item else None

    def keep_contact(self, invitation_id: str, customer_id: str, contact: CustomerContact, until: datetime) -> None:
        """The ``contact`` item beside the invitation; DynamoDB's TTL deletes it when the link expires."""
        item = {
            "pk": f"INV#{invitation_id}",
            "sk": CONTACT_SK,
            "entity": "contact",
            "customer_id": customer_id,  # what an erasure request finds it by
            **contact.model_dump(exclude_none=True),
            "ttl": _epoch(until),
        }
        try:
            self._client.put_item(TableName=self._table, Item=_marshal(item))
        except ClientError as exc:
            raise StorageError(str(exc)) from exc

    def record_unsubscribe(self, invitation_id: str, at: datetime) -> None:
        # The funnel's unsubscribe stage (domain/funnel.py): first-seen, and never recreating an erased item.
        try:
            self._client.update_item(
                TableName=self._table,
                Key=invitation_key(invitation_id),
                UpdateExpression="SET unsubscribed_at = if_not_exists(unsubscribed_at, :at)",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":at": {"S": _iso(at)}},
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise StorageError(str(exc)) from exc

    # -- responses -----------------------------------------------------------------------------
    def save_answer(self, invitation: Invitation, answer: Answer, now: datetime) -> Response:
        """The first answer creates the response whole; a changed answer updates only what changes."""
        response = Response.first(invitation, answer, now)
        item = _marshal(
            {
                **response.model_dump(mode="json", exclude_none=True),
                "entity": "response",
                "pk": f"INV#{invitation.invitation_id}",
                "sk": RESPONSE_SK,
                **answer_index_keys(response.program_id, response.context, response.created_at, response.invitation_id),
            }
        )
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise StorageError(str(exc)) from exc
            return self._change_answer(invitation.invitation_id, answer, now)
        return response

    def _change_answer(self, invitation_id: str, answer: Answer, now: datetime) -> Response:
        """A changed answer drops the comment analysis in the same update: the analysis judged the old
        answer (its text and its score), and the analyse function's stream filter takes a commented
        response only while it has none, so the new answer is analysed once (docs/text-analysis.md)."""
        values: dict[str, Any] = {":score": {"N": str(answer.score)}, ":now": {"S": _iso(now)}, ":one": {"N": "1"}}
        expression = "SET score = :score, updated_at = :now"
        if answer.comment is None:
            expression += " REMOVE #comment, #analysis"
        else:
            values[":comment"] = {"S": answer.comment}
            expression += ", #comment = :comment REMOVE #analysis"
        try:
            result = self._client.update_item(
                TableName=self._table,
                Key=response_key(invitation_id),
                UpdateExpression=expression + " ADD version :one",
                ExpressionAttributeNames={"#comment": "comment", "#analysis": "analysis"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        return Response.model_validate(_unmarshal(result["Attributes"]))

    # -- customers -----------------------------------------------------------------------------
    def unsubscribe_email(self, customer_id: str, at: datetime) -> datetime:
        return stamp_profile_once(self._client, self._table, customer_id, "email_unsubscribed_at", at)
