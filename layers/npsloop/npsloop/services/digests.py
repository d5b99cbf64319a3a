"""Digests: a routing entry's alert emails gathered into one email per recipient and day (or week).

Recording (the alert function, and the cases function's trend scan): an alert whose route asks for a
digest writes one item into its owner's digest of the period it falls in (``DigestBook``; the alert's
own claim, ``EMAIL#v<version>#<recipient>``, makes it once, and a repeat overwrites the same item).

Sending (the cases function, ``{"task": "digests"}`` every 15 minutes, 5 past): for every owner a
digest entry routes to (``RoutingTable.digest_routes``) the run reads the digest of the period that
closed at or before ``now - SEND_GRACE`` (one strongly consistent Query). A digest with no items is
never sent; one sent before is skipped without a write; otherwise its send is claimed (``INV#DIGEST#
<recipient>#<send>`` / ``DIGEST#SENT``, ``npsloop.services.steps.once``), mailed, and marked done.
So a retried or overlapping run sends nothing twice, and a failed run's digest goes out on the next
run (the claim's lease runs out). A recipient that fails is logged (ids only) and counted; the run then
ends with ``DigestsIncomplete`` for the function's failure destination and alarm.

A digest read after its grace is settled for good: sent (by this run or another), or empty - alerts
go into the period open when they are recorded, never into a closed one. The service remembers the
settled digests of the current periods for the life of its container, so the runs between two send
times (95 of the 96 a day for a daily digest) make no AWS call at all; a cold start reads them once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from npsloop.clock import Clock
from npsloop.domain.alerts import Route, RoutingTable
from npsloop.domain.digests import DigestItem, DigestPeriod, digest_id
from npsloop.notices import Notifier, render_digest
from npsloop.observability import count, logger
from npsloop.ports.cases import AlertClaims, DigestBook
from npsloop.services.steps import StepInFlight, once

SENT_STEP = "DIGEST#SENT"
# The run sends the period that closed this long ago: an alert recorded a moment before the send time
# (its period chosen before, written after) is in the table by then.
SEND_GRACE = timedelta(minutes=5)
# Items outlive their period by this much (TTL), then DynamoDB deletes them: a digest that could not be
# sent for two weeks is not worth sending.
KEEP_AFTER_PERIOD = timedelta(days=14)


def record(book: DigestBook, clock: Clock, route: Route, item: DigestItem) -> DigestPeriod:
    """The alert into its route owner's digest of the period open now (a repeat overwrites it)."""
    period = route.digest.period_of(clock.now(), route.time_zone)
    book.add_to_digest(digest_id(route.owner.id, period), item, period.end + KEEP_AFTER_PERIOD)
    logger.info("alert kept for the digest", ref=item.ref, recipient_id=route.owner.id, period=period.key)
    count("AlertsDigested", delivery=route.digest.delivery.value)
    return period


class DigestsIncomplete(RuntimeError):
    """Some digests failed this run (logged and counted); the next run retries them."""


class DigestService:
    def __init__(
        self,
        *,
        routing: RoutingTable,
        book: DigestBook,
        claims: AlertClaims,
        notifier: Notifier,
        clock: Clock,
    ) -> None:
        self._routing = routing
        self._book = book
        self._claims = claims
        self._notifier = notifier
        self._clock = clock
        self._routes: list[Route] | None = None  # the routing table is the container's: resolved once
        self._settled: set[str] = set()  # digests of the current periods sent or empty: nothing left to do

    # -- sending ---------------------------------------------------------------------------------
    def send(self, event: dict[str, Any] | None = None) -> dict[str, int]:
        """Send every digest whose period closed and that has alerts and was not sent; returns counts."""
        now = self._clock.now()
        sent = skipped = failed = 0
        if self._routes is None:
            self._routes = self._routing.digest_routes()
        current: set[str] = set()
        for route in self._routes:
            period = route.digest.last_closed(now - SEND_GRACE, route.time_zone)
            digest = digest_id(route.owner.id, period)
            current.add(digest)
            if digest in self._settled:
                skipped += 1  # sent, or closed empty, when a run of this container read it
                continue
            try:
                if self._send_one(route, period, digest, now):
                    sent += 1
                else:
                    skipped += 1
                self._settled.add(digest)
            except StepInFlight:
                skipped += 1  # another run is sending it
            except Exception as exc:
                failed += 1
                logger.warning(
                    "digest failed", recipient_id=route.owner.id, period=period.key, error=type(exc).__name__
                )
                count("DigestsFailed", error=type(exc).__name__)
        self._settled &= current  # a closed period's digest id never comes back: forget the past ones
        logger.info("digest run", sent=sent, skipped=skipped, failed=failed)
        if failed:
            raise DigestsIncomplete(f"{failed} digest(s) failed; the next run retries them")
        return {"digests_sent": sent, "digests_skipped": skipped}

    def _send_one(self, route: Route, period: DigestPeriod, digest: str, now: datetime) -> bool:
        """True: mailed now. False: settled without a send (sent before, by another run, or empty)."""
        read = self._book.read_digest(digest)
        if read.sent or not read.items:
            return False  # never an empty digest; never twice
        return once(self._claims, self._clock, digest, SENT_STEP, lambda: self._mail(route, period, read.items))

    def _mail(self, route: Route, period: DigestPeriod, items: list[DigestItem]) -> None:
        email = render_digest(route, period, items, self._notifier.brand)
        self._notifier.mail_rendered(route.owner, email, kind="digest")
        logger.info("digest mailed", recipient_id=route.owner.id, period=period.key, alerts=len(items))
        count("DigestsSent", delivery=route.digest.delivery.value)
