"""In-memory fakes of the alert and case ports, and builders of response stream records."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from npsloop.domain.cases import Case
from npsloop.domain.contact import CustomerContact
from npsloop.domain.digests import DigestItem
from npsloop.ports.cases import (
    AlertClaims,
    AlertTopic,
    BusEvent,
    CasePage,
    CaseQuery,
    CaseRepository,
    CustomerContacts,
    DigestBook,
    DigestRead,
    EventBus,
    PublishFailed,
    StepClaim,
    StoreWindows,
    TopicMessage,
    VersionConflict,
)
from tests.stream_records import lambda_record


class InMemoryCases(AlertClaims, StoreWindows, CaseRepository, CustomerContacts, DigestBook):
    def __init__(self) -> None:
        self.claims: dict[tuple[str, str], dict[str, Any]] = {}
        self.marks: dict[str, set[tuple[datetime, str]]] = {}
        self.clusters: dict[str, tuple[datetime, str]] = {}
        self.cases: dict[str, Case] = {}
        self.contacts: dict[str, tuple[str, CustomerContact, datetime]] = {}  # invitation: (customer, contact, until)
        self.digests: dict[str, dict[str, DigestItem]] = {}  # digest id: {ref: item}
        self.fail_creates = 0
        self.fail_saves: set[str] = set()  # case ids whose saves fail (storage unavailable)
        self._lock = threading.Lock()

    # claims
    def claim(self, invitation_id: str, step: str, token: str, now: datetime, lease_until: datetime) -> StepClaim:
        with self._lock:
            current = self.claims.get((invitation_id, step))
            if current is not None:
                if current["status"] == "sent":
                    return StepClaim.DONE
                if current["lease_until"] >= now:
                    return StepClaim.IN_FLIGHT
            self.claims[(invitation_id, step)] = {"status": "pending", "token": token, "lease_until": lease_until}
            return StepClaim.CLAIMED

    def complete(self, invitation_id: str, step: str, token: str, now: datetime) -> None:
        with self._lock:
            current = self.claims[(invitation_id, step)]
            if current["token"] == token:
                current["status"] = "sent"

    # digests
    def add_to_digest(self, digest: str, item: DigestItem, expires: datetime) -> None:
        with self._lock:
            self.digests.setdefault(digest, {})[item.ref] = item

    def read_digest(self, digest: str) -> DigestRead:
        with self._lock:
            sent = self.claims.get((digest, "DIGEST#SENT"), {}).get("status") == "sent"
            return DigestRead(list(self.digests.get(digest, {}).values()), sent)

    # the customer's contact details
    def contact_for(self, invitation_id: str, now: datetime) -> CustomerContact | None:
        kept = self.contacts.get(invitation_id)
        return kept[1] if kept and kept[2] > now else None

    def erase_contacts(self, customer_id: str) -> int:
        with self._lock:
            gone = [i for i, (customer, _, _) in self.contacts.items() if customer == customer_id]
            for invitation_id in gone:
                del self.contacts[invitation_id]
            cases = [c for c in self.cases.values() if c.customer_id == customer_id and c.contact is not None]
            for case in cases:
                self.cases[case.case_id] = case.model_copy(update={"contact": None, "version": case.version + 1})
            return len(gone) + len(cases)

    # windows
    def record_detractor(self, store: str, invitation_id: str, at: datetime, expires: datetime) -> None:
        with self._lock:
            self.marks.setdefault(store, set()).add((at, invitation_id))

    def count_detractors(self, store: str, since: datetime, until: datetime) -> int:
        with self._lock:
            return sum(1 for at, _ in self.marks.get(store, set()) if since <= at <= until)

    def claim_cluster(self, store: str, invitation_id: str, now: datetime, quiet_until: datetime) -> bool:
        with self._lock:
            current = self.clusters.get(store)
            if current is None or current[0] <= now or current[1] == invitation_id:
                self.clusters[store] = (quiet_until, invitation_id)
                return True
            return False

    # cases
    def create(self, case: Case) -> bool:
        with self._lock:
            if self.fail_creates:
                self.fail_creates -= 1
                raise RuntimeError("storage unavailable")
            if case.case_id in self.cases:
                return False
            self.cases[case.case_id] = case
            return True

    def get(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)

    def save(self, case: Case, expected_version: int) -> None:
        with self._lock:
            if case.case_id in self.fail_saves:
                raise RuntimeError("storage unavailable")
            current = self.cases.get(case.case_id)
            if current is None or current.version != expected_version:
                raise VersionConflict(case.case_id, current.version if current else None)
            self.cases[case.case_id] = case

    def closed_event_sent(self, case: Case) -> None:
        with self._lock:
            current = self.cases.get(case.case_id)
            if current is not None and current.version == case.version:
                self.cases[case.case_id] = current.model_copy(update={"closed_event_pending": False})

    def due(self, now: datetime, limit: int) -> list[str]:
        due = [(c.due_at(), c.case_id) for c in self.cases.values() if c.due_at() is not None and c.due_at() <= now]
        return [case_id for _, case_id in sorted(due)][:limit]

    def find(self, query: CaseQuery) -> CasePage:
        found = [
            c
            for c in self.cases.values()
            if (query.owner is None or c.owner.id == query.owner)
            and (query.store is None or c.store == query.store)
            and (query.status is None or c.status == query.status)
            and (query.visible is None or _visible(query.visible, c))
        ]
        found.sort(key=lambda c: (c.sla_due_at, c.case_id))
        start = int((query.start or {}).get("offset", "0"))
        page = found[start : start + query.limit]
        more = start + query.limit < len(found)
        return CasePage(page, {"offset": str(start + query.limit)} if more else None)


class RecordingTopic(AlertTopic):
    def __init__(self) -> None:
        self.messages: list[TopicMessage] = []
        self.failures = 0
        self._lock = threading.Lock()

    def publish(self, message: TopicMessage) -> str:
        with self._lock:
            if self.failures:
                self.failures -= 1
                raise PublishFailed("topic unavailable")
            self.messages.append(message)
            return f"msg-{len(self.messages)}"


class RecordingBus(EventBus):
    def __init__(self) -> None:
        self.events: list[BusEvent] = []
        self.failures = 0
        self._lock = threading.Lock()

    def put(self, events: list[BusEvent]) -> None:
        with self._lock:
            if self.failures:
                self.failures -= 1
                raise PublishFailed("bus unavailable")
            self.events.extend(events)

    def of(self, detail_type: str) -> list[dict[str, Any]]:
        return [e.detail for e in self.events if e.detail_type == detail_type]


def response_image(
    invitation_id: str = "inv-1",
    *,
    score: int = 3,
    comment: str | None = None,
    survey_type: str = "nps",
    store: str | None = "WAW-02",
    region: str | None = "mazowieckie",
    vip: bool = False,
    created_at: datetime | None = None,
    version: int = 1,
) -> dict[str, Any]:
    created = (created_at or datetime(2026, 11, 20, 10, 0, tzinfo=UTC)).isoformat()
    context = {k: v for k, v in (("store", store), ("region", region), ("channel", "web")) if v}
    image: dict[str, Any] = {
        "pk": f"INV#{invitation_id}",
        "sk": "RESPONSE",
        "entity": "response",
        "invitation_id": invitation_id,
        "program_id": "post-purchase-nps",
        "program_version": 1,
        "survey_type": survey_type,
        "customer_id": f"C-{invitation_id}",
        "locale": "pl",
        "context": context,
        "vip": vip,
        "score": score,
        "version": version,
        "created_at": created,
        "updated_at": created,
    }
    if comment is not None:
        image["comment"] = comment
    return image


def stream_record(new: dict[str, Any] | None, old: dict[str, Any] | None = None, kind: str | None = None) -> dict:
    name = kind or ("INSERT" if old is None else "MODIFY" if new is not None else "REMOVE")
    return lambda_record(name, new, old)


def _visible(visible, case) -> bool:
    """What the DynamoDB filter keeps: own (owner or manager), or of the scope's stores or regions."""
    own = visible.own and visible.subject in (case.owner.id, case.manager.id)
    return own or case.store in visible.stores or case.region in visible.regions
