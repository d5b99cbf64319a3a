"""The npsloop table, alert and case area: alert claims, store detractor windows and follow-up cases.

Items (docs/data-model.md):
- alert claim ``INV#<invitation>`` / ``ALERT#<rule id>`` (and ``OPENED#CASE`` for the case), entity ``alert``;
- detractor mark ``DETR#<store>`` / ``<at ISO>#<invitation>`` with a TTL, and ``DETR#<store>`` / ``CLUSTER``;
- digest item ``INV#DIGEST#<recipient>#<send UTC>`` / ``ITEM#<ref>``, entity ``digest_item``, with a TTL,
  beside its send claim ``INV#DIGEST#...`` / ``DIGEST#SENT`` (entity ``alert``);
- case ``CASE#<id>`` / ``CASE``, entity ``case``, indexed four ways:
  GSI1 ``OWNER#<owner id>`` and GSI2 ``STORE#<store>``, both sorted ``<status>#<SLA due>#<id>``;
  GSI3 ``CASES#<status>`` (the API's list by status) sorted ``<due ISO>#<id>`` while something is due,
  ``!<SLA due>#<id>`` for an escalated open case (first in lists) and ``~<SLA due>#<id>`` when nothing is;
  GSI4, sparse and keys only, the sweep's work-due index: ``CASES#due`` / ``<due ISO>#<id>`` only while
  the sweep has work for the case (``Case.due_at``), absent otherwise. The sweep reads ``<= <now>``.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from npsloop.adapters.dynamodb_items import (
    CONTACT_SK,
    StorageError,
    _epoch,
    _is_conditional_failure,
    _iso,
    _marshal,
    _unmarshal,
)
from npsloop.domain.cases import Case
from npsloop.domain.contact import CustomerContact
from npsloop.domain.digests import DigestItem
from npsloop.domain.scope import CaseVisibility
from npsloop.ports.cases import (
    AlertClaims,
    CasePage,
    CaseQuery,
    CaseRepository,
    CustomerContacts,
    DigestBook,
    DigestRead,
    StepClaim,
    StoreWindows,
    VersionConflict,
)

CASE_SK = "CASE"
CLUSTER_SK = "CLUSTER"
DIGEST_ITEM_PREFIX = "ITEM#"
DIGEST_SENT_STEP = "DIGEST#SENT"  # npsloop.services.digests claims it
PENDING, SENT = "pending", "sent"
NOT_DUE_PREFIX, ESCALATED_PREFIX = "~", "!"
ERASE_ATTEMPTS = 5  # conditional writes of one case by an erasure request before it gives up
WORK_DUE = "CASES#due"  # GSI4's one partition: every case the sweep has work for
_INDEX_KEYS = {"GSI1": ("gsi1pk", "gsi1sk"), "GSI2": ("gsi2pk", "gsi2sk"), "GSI3": ("gsi3pk", "gsi3sk")}


def case_key(case_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": CASE_SK}}


def _queue_sort_key(case: Case) -> str:
    due = case.due_at()
    if due is not None:
        return f"{_iso(due)}#{case.case_id}"
    prefix = ESCALATED_PREFIX if case.status.sla_running and case.escalated_at else NOT_DUE_PREFIX
    return f"{prefix}{_iso(case.sla_due_at)}#{case.case_id}"


def _case_item(case: Case) -> dict[str, Any]:
    document = case.model_dump(mode="json", exclude_none=True)
    listed = f"{case.status.value}#{_iso(case.sla_due_at)}#{case.case_id}"
    document.update(
        pk=f"CASE#{case.case_id}",
        sk=CASE_SK,
        entity="case",
        owner_id=case.owner.id,
        manager_id=case.manager.id,
        gsi1pk=f"OWNER#{case.owner.id}",
        gsi1sk=listed,
        gsi2pk=f"STORE#{case.store or '-'}",
        gsi2sk=listed,
        gsi3pk=f"CASES#{case.status.value}",
        gsi3sk=_queue_sort_key(case),
    )
    due = case.due_at()
    if due is not None:  # a put replaces the item: without these the case leaves the work-due index
        document.update(gsi4pk=WORK_DUE, gsi4sk=f"{_iso(due)}#{case.case_id}")
    return _marshal(document)


def _visibility_filter(visible: CaseVisibility, values: dict[str, Any], names: dict[str, str]) -> str:
    """``(owner_id = :me OR manager_id = :me OR #store IN (...) OR #region IN (...))``: the cases one
    caller's scope reaches. A scope reaching nothing matches nothing (``attribute_not_exists(pk)``)."""
    terms = []
    if visible.own:
        values[":me"] = {"S": visible.subject}
        terms += ["owner_id = :me", "manager_id = :me"]
    for attribute, ids in (("store", visible.stores), ("region", visible.regions)):
        if not ids:
            continue
        placeholders = []
        for index, value in enumerate(sorted(ids)):
            values[f":{attribute}{index}"] = {"S": value}
            placeholders.append(f":{attribute}{index}")
        names[f"#{attribute}"] = attribute
        terms.append(f"#{attribute} IN ({', '.join(placeholders)})")
    return "(" + " OR ".join(terms) + ")" if terms else "attribute_not_exists(pk)"


def _case_from(item: dict[str, Any]) -> Case:
    data = _unmarshal(item)
    return Case.model_validate({k: v for k, v in data.items() if k in Case.model_fields})


class DynamoCases(AlertClaims, StoreWindows, CaseRepository, CustomerContacts, DigestBook):
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    # -- alert claims ----------------------------------------------------------------------------
    def claim(self, invitation_id: str, step: str, token: str, now: datetime, lease_until: datetime) -> StepClaim:
        key = {"pk": f"INV#{invitation_id}", "sk": step}
        item = _marshal(
            {
                **key,
                "entity": "alert",
                "invitation_id": invitation_id,
                "status": PENDING,
                "claim_token": token,
                "claimed_at": _iso(now),
                "lease_until_epoch": _epoch(lease_until),
            }
        )
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR (#status = :pending AND lease_until_epoch < :now)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":pending": {"S": PENDING}, ":now": {"N": str(_epoch(now))}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",  # the claim that stood in the way, without a read
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise StorageError(str(exc)) from exc
            done = exc.response.get("Item", {}).get("status", {}).get("S") == SENT
            return StepClaim.DONE if done else StepClaim.IN_FLIGHT
        return StepClaim.CLAIMED

    def last_done(self, invitation_id: str, step_prefix: str) -> datetime | None:
        """One Query of the claims under ``INV#<id>`` whose sort key starts with the prefix."""
        try:
            page = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={":pk": {"S": f"INV#{invitation_id}"}, ":prefix": {"S": step_prefix}},
            )  # at most one claim per block of days: a short read, paged only after years of alerts
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        done = [i for i in page.get("Items", []) if i.get("status", {}).get("S") == SENT and "claimed_at" in i]
        return max((datetime.fromisoformat(i["claimed_at"]["S"]) for i in done), default=None)

    def complete(self, invitation_id: str, step: str, token: str, now: datetime) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_marshal({"pk": f"INV#{invitation_id}", "sk": step}),
                UpdateExpression="SET #status = :sent, sent_at = :now REMOVE lease_until_epoch",
                ConditionExpression="claim_token = :token",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":sent": {"S": SENT}, ":now": {"S": _iso(now)}, ":token": {"S": token}},
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise StorageError(str(exc)) from exc
            # Our lease ran out and another delivery took over: it records its own completion.

    # -- the customer's contact details ----------------------------------------------------------
    def contact_for(self, invitation_id: str, now: datetime) -> CustomerContact | None:
        item = self._get(_marshal({"pk": f"INV#{invitation_id}", "sk": CONTACT_SK}))
        if not item or int(item.get("ttl", {}).get("N", "0")) <= _epoch(now):
            return None  # TTL deletes within days, not at once: an expired item is gone already for us
        contact = CustomerContact.model_validate(_unmarshal(item))
        return None if contact.empty else contact

    def erase_contacts(self, customer_id: str) -> int:
        """A Scan filtered on the customer (an erasure request is rare; no index serves it): delete
        their contact items, remove ``contact`` from their cases."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": (
                "customer_id = :customer AND (entity = :contact OR (entity = :case AND attribute_exists(contact)))"
            ),
            "ExpressionAttributeValues": {
                ":customer": {"S": customer_id},
                ":contact": {"S": "contact"},
                ":case": {"S": "case"},
            },
            "ProjectionExpression": "pk, sk, entity, version",
        }
        changed = 0
        while True:
            try:
                page = self._client.scan(**request)
                for item in page.get("Items", []):
                    key = {"pk": item["pk"], "sk": item["sk"]}
                    if item["entity"]["S"] == "contact":
                        self._client.delete_item(TableName=self._table, Key=key)
                        changed += 1
                    elif self._remove_case_contact(key, int(item["version"]["N"])):
                        changed += 1
            except ClientError as exc:
                raise StorageError(str(exc)) from exc
            if not page.get("LastEvaluatedKey"):
                return changed
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _remove_case_contact(self, key: dict[str, Any], version: int) -> bool:
        """``REMOVE contact`` as a case change like any other: only at the version read, which it
        bumps, so a concurrent save made from an older read (still holding the contact) fails with
        ``VersionConflict`` instead of writing it back. On a conflict it reads the case again and
        retries; False when the case no longer has a contact (closed or erased meanwhile)."""
        for _ in range(ERASE_ATTEMPTS):
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression="REMOVE contact SET version = :next",
                    ConditionExpression="version = :read AND attribute_exists(contact)",
                    ExpressionAttributeValues={":read": {"N": str(version)}, ":next": {"N": str(version + 1)}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return True
            except ClientError as exc:
                if not _is_conditional_failure(exc):
                    raise
                current = exc.response.get("Item", {})
                if "contact" not in current or "version" not in current:
                    return False
                version = int(current["version"]["N"])
        raise StorageError(f"{key['pk']['S']}: changed {ERASE_ATTEMPTS} times while erasing; run the request again")

    # -- digests ---------------------------------------------------------------------------------
    def add_to_digest(self, digest: str, item: DigestItem, expires: datetime) -> None:
        document = item.model_dump(mode="json", exclude_none=True)
        document.update(
            pk=f"INV#{digest}", sk=f"{DIGEST_ITEM_PREFIX}{item.ref}", entity="digest_item", ttl=_epoch(expires)
        )
        try:
            self._client.put_item(TableName=self._table, Item=_marshal(document))
        except ClientError as exc:
            raise StorageError(str(exc)) from exc

    def read_digest(self, digest: str) -> DigestRead:
        """One Query of the digest's partition: its items and its send claim."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"INV#{digest}"}},
            "ConsistentRead": True,  # an alert recorded just before the send time is in it
        }
        items: list[DigestItem] = []
        sent = False
        while True:
            try:
                page = self._client.query(**request)
            except ClientError as exc:
                raise StorageError(str(exc)) from exc
            for raw in page.get("Items", []):
                data = _unmarshal(raw)
                if data["sk"] == DIGEST_SENT_STEP:
                    sent = data.get("status") == SENT
                elif data["sk"].startswith(DIGEST_ITEM_PREFIX):
                    items.append(DigestItem.model_validate(data))
            if not page.get("LastEvaluatedKey"):
                return DigestRead(items, sent)
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- store windows ---------------------------------------------------------------------------
    def record_detractor(self, store: str, invitation_id: str, at: datetime, expires: datetime) -> None:
        item = _marshal(
            {
                "pk": f"DETR#{store}",
                "sk": f"{_iso(at)}#{invitation_id}",
                "entity": "detractor_mark",
                "invitation_id": invitation_id,
                "ttl": _epoch(expires),
            }
        )
        try:
            self._client.put_item(TableName=self._table, Item=item)
        except ClientError as exc:
            raise StorageError(str(exc)) from exc

    def count_detractors(self, store: str, since: datetime, until: datetime) -> int:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"DETR#{store}"},
                ":from": {"S": _iso(since)},
                ":to": {"S": f"{_iso(until)}#~"},
            },
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        total = 0
        while True:
            try:
                page = self._client.query(**request)
            except ClientError as exc:
                raise StorageError(str(exc)) from exc
            total += int(page.get("Count", 0))
            if not page.get("LastEvaluatedKey"):
                return total
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def claim_cluster(self, store: str, invitation_id: str, now: datetime, quiet_until: datetime) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_marshal({"pk": f"DETR#{store}", "sk": CLUSTER_SK}),
                UpdateExpression="SET quiet_until_epoch = :until, invitation_id = :inv, entity = :entity, #ttl = :ttl",
                ConditionExpression="attribute_not_exists(pk) OR quiet_until_epoch <= :now OR invitation_id = :inv",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":until": {"N": str(_epoch(quiet_until))},
                    ":ttl": {"N": str(_epoch(quiet_until) + 86400)},
                    ":now": {"N": str(_epoch(now))},
                    ":inv": {"S": invitation_id},
                    ":entity": {"S": "cluster_alert"},
                },
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise StorageError(str(exc)) from exc
        return True

    # -- cases -----------------------------------------------------------------------------------
    def create(self, case: Case) -> bool:
        try:
            self._client.put_item(
                TableName=self._table, Item=_case_item(case), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise StorageError(str(exc)) from exc
        return True

    def get(self, case_id: str) -> Case | None:
        item = self._get(case_key(case_id))
        return _case_from(item) if item else None

    def save(self, case: Case, expected_version: int) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_case_item(case),
                ConditionExpression="version = :expected",
                ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise StorageError(str(exc)) from exc
            current = exc.response.get("Item", {}).get("version", {}).get("N")
            raise VersionConflict(case.case_id, int(current) if current else None) from exc

    def closed_event_sent(self, case: Case) -> None:
        sent = case.model_copy(update={"closed_event_pending": False})
        with contextlib.suppress(ClientError):  # changed meanwhile, or already cleared: the sweep looks again
            self._client.update_item(
                TableName=self._table,
                Key=case_key(case.case_id),
                UpdateExpression="SET closed_event_pending = :false, gsi3sk = :sk REMOVE gsi4pk, gsi4sk",
                ConditionExpression="version = :version AND closed_event_pending = :true",
                ExpressionAttributeValues={
                    ":false": {"BOOL": False},
                    ":true": {"BOOL": True},
                    ":sk": {"S": _queue_sort_key(sent)},
                    ":version": {"N": str(case.version)},
                },
            )

    def due(self, now: datetime, limit: int) -> list[str]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI4",
            "KeyConditionExpression": "gsi4pk = :pk AND gsi4sk <= :to",
            "ExpressionAttributeValues": {":pk": {"S": WORK_DUE}, ":to": {"S": f"{_iso(now)}#~"}},
        }
        ids: list[str] = []
        while len(ids) < limit:
            request["Limit"] = limit - len(ids)
            page = self._query(request)
            ids.extend(item["pk"]["S"].removeprefix("CASE#") for item in page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return ids[:limit]

    def find(self, query: CaseQuery) -> CasePage:
        index, partition, prefix = self._index_for(query)
        pk_name, sk_name = _INDEX_KEYS[index]
        values: dict[str, Any] = {":pk": {"S": partition}}
        condition = f"{pk_name} = :pk"
        if prefix:
            condition += f" AND begins_with({sk_name}, :prefix)"
            values[":prefix"] = {"S": prefix}
        filters = []
        names: dict[str, str] = {}
        if query.owner and query.store:
            filters.append("#store = :store")
            values[":store"] = {"S": query.store}
            names["#store"] = "store"
        if query.visible is not None:
            filters.append(_visibility_filter(query.visible, values, names))
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        if names:
            request["ExpressionAttributeNames"] = names
        if query.start:
            request["ExclusiveStartKey"] = _marshal(query.start)
        items: list[dict[str, Any]] = []
        while True:
            request["Limit"] = max(query.limit - len(items), 1) if not filters else max(query.limit, 25)
            page = self._query(request)
            items.extend(page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if len(items) >= query.limit:
                kept = items[: query.limit]
                more = len(items) > query.limit or last is not None
                return CasePage([_case_from(i) for i in kept], _key_of(kept[-1], index) if more else None)
            if not last:
                return CasePage([_case_from(i) for i in items], None)
            request["ExclusiveStartKey"] = last

    @staticmethod
    def _index_for(query: CaseQuery) -> tuple[str, str, str | None]:
        prefix = f"{query.status.value}#" if query.status else None
        if query.owner:
            return "GSI1", f"OWNER#{query.owner}", prefix
        if query.store:
            return "GSI2", f"STORE#{query.store}", prefix
        if query.status:
            return "GSI3", f"CASES#{query.status.value}", None
        raise ValueError("a case query needs an owner, a store or a status")

    # -- helpers ---------------------------------------------------------------------------------
    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        except ClientError as exc:
            raise StorageError(str(exc)) from exc

    def _query(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._client.query(**request)
        except ClientError as exc:
            raise StorageError(str(exc)) from exc


def _key_of(item: dict[str, Any], index: str) -> dict[str, Any]:
    """The ExclusiveStartKey that resumes a query on ``index`` right after ``item``."""
    names = ("pk", "sk", *_INDEX_KEYS[index])
    return {name: item[name]["S"] for name in names if name in item}
