"""In-memory fakes of the report ports, with the adapters' semantics (conditional claims)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from npsloop.domain.reports import Recipient, ReportJob
from npsloop.ports.reports import RecipientDirectory, ReportClaim, ReportClaims, ReportPreferences, ReportQueue


class StaticDirectory(RecipientDirectory):
    def __init__(self, people: list[Recipient]) -> None:
        self.people = people

    def recipients(self) -> list[Recipient]:
        return list(self.people)


class ListQueue(ReportQueue):
    def __init__(self) -> None:
        self.jobs: list[ReportJob] = []

    def send(self, jobs: Sequence[ReportJob]) -> None:
        self.jobs.extend(ReportJob.model_validate_json(j.model_dump_json()) for j in jobs)  # through the wire


class InMemoryReportClaims(ReportClaims):
    def __init__(self) -> None:
        self.items: dict[str, dict[str, object]] = {}

    def claim(self, claim_id: str, token: str, now: datetime, lease_until: datetime) -> ReportClaim:
        item = self.items.get(claim_id)
        if item is not None:
            if item["status"] != "pending":
                return ReportClaim.DONE
            if item["lease_until"] > now:  # type: ignore[operator]
                return ReportClaim.IN_FLIGHT
            return ReportClaim.UNCONFIRMED
        self.items[claim_id] = {"status": "pending", "token": token, "lease_until": lease_until}
        return ReportClaim.CLAIMED

    def finish(self, claim_id: str, token: str, outcome: str, now: datetime) -> None:
        item = self.items[claim_id]
        if item["token"] == token:
            item["status"] = outcome

    def release(self, claim_id: str, token: str) -> None:
        if self.items.get(claim_id, {}).get("token") == token:
            del self.items[claim_id]


class InMemoryPreferences(ReportPreferences):
    def __init__(self) -> None:
        self.stopped: set[str] = set()

    def opted_out(self, preference_id: str) -> bool:
        return preference_id in self.stopped

    def opt_out(self, preference_id: str, at: datetime) -> None:
        self.stopped.add(preference_id)
