"""The survey funnel: what became of a program's invitations, counted on the day each was created.

A cohort funnel: every stage of an invitation counts on the invitation's UTC creation day, so the
rates of a range are rates of the same invitations (an answer given on Monday to Sunday's email
counts on Sunday). Per program, dimension (``all``, ``store``, ``region``, ``channel``, context
keys, as the score aggregates) and day, the day item (``AGG#<program>#<dimension>#<yyyy-mm>`` /
``<day>#<value>``, domain/aggregates.py) holds a counter ``f#<stage>`` per stage:

    invited -> delivered -> opened -> answered -> commented
    bounced, complained, unsubscribed   (of the invited)
    failed, skipped, skipped_<reason>   (never sent)

Each stored image maps to the stages it has reached (``invitation_stages``, ``response_stages``),
and a change contributes ``stages(new) - stages(old)`` on its keys. The table's stream carries one
record per write and the score function applies each record exactly once, so the contributions
telescope to the stages of the items as they stand: each stage counts once per invitation whatever
the replays, and whatever the order SES's reports came in (the delivery function sets every
first-seen timestamp with ``if_not_exists``, so a stage reached stays reached; a status that moves,
pending to sent, moves its count). A changed answer moves nothing unless its comment appears or
goes. Imported answers have no invitation (no ``invited_at``) and stay outside the funnel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from npsloop.domain.aggregates import AggregateKey, FunnelDelta, coalesce, segment_keys
from npsloop.domain.invitations import InvitationStatus, SkipReason
from npsloop.domain.responses import Response

INVITED, DELIVERED, OPENED, ANSWERED, COMMENTED = "invited", "delivered", "opened", "answered", "commented"
BOUNCED, COMPLAINED, UNSUBSCRIBED = "bounced", "complained", "unsubscribed"
FAILED, SKIPPED = "failed", "skipped"
STAGES = (INVITED, DELIVERED, OPENED, ANSWERED, COMMENTED)
PROBLEMS = (BOUNCED, COMPLAINED, UNSUBSCRIBED)
SKIPPED_PREFIX = "skipped_"
# The first-seen timestamps the delivery function (and the unsubscribe page) set on an invitation.
_REACHED_BY = {
    DELIVERED: "delivered_at",
    OPENED: "opened_at",
    BOUNCED: "bounced_at",
    COMPLAINED: "complained_at",
    UNSUBSCRIBED: "unsubscribed_at",
}


class FunnelInvitation(BaseModel):
    """What the funnel reads of an invitation image (the rest of the item is ignored)."""

    model_config = ConfigDict(frozen=True)

    program_id: str
    context: dict[str, str] = {}
    status: InvitationStatus
    skip_reason: SkipReason | None = None
    created_at: AwareDatetime
    delivered_at: AwareDatetime | None = None
    opened_at: AwareDatetime | None = None
    bounced_at: AwareDatetime | None = None
    complained_at: AwareDatetime | None = None
    unsubscribed_at: AwareDatetime | None = None
    delivery_failed_at: AwareDatetime | None = None  # SES took it, then refused it (reject, suppression list)


def invitation_stages(invitation: FunnelInvitation) -> dict[str, int]:
    """The stages an invitation has reached: 1 each. Pending (a send in flight) has reached none."""
    stages: dict[str, int] = {}
    if invitation.status is InvitationStatus.SENT:
        stages[INVITED] = 1
        for stage, attribute in _REACHED_BY.items():
            if getattr(invitation, attribute) is not None:
                stages[stage] = 1
        if invitation.delivery_failed_at is not None:
            stages[FAILED] = 1
    elif invitation.status is InvitationStatus.FAILED:
        stages[FAILED] = 1
    elif invitation.status is InvitationStatus.SKIPPED:
        stages[SKIPPED] = 1
        if invitation.skip_reason is not None:
            stages[SKIPPED_PREFIX + invitation.skip_reason.value] = 1
    return stages


def response_stages(response: Response) -> dict[str, int]:
    """An answer to an invitation is ``answered``, and ``commented`` while it carries a comment."""
    if response.invited_at is None:
        return {}  # imported (or saved before responses knew their invitation's day): outside the funnel
    return {ANSWERED: 1, **({COMMENTED: 1} if response.comment else {})}


def _signed(
    program_id: str,
    context: Mapping[str, str],
    day: date,
    *,
    stages: Mapping[str, int],
    sign: int,
    dims: tuple[str, ...],
) -> list[dict[AggregateKey, FunnelDelta]]:
    if not stages:
        return []
    counts = {stage: sign * k for stage, k in stages.items()}
    return [{key: FunnelDelta(dict(counts))} for key in segment_keys(program_id, context, day, dims)]


def invitation_changes(
    old: FunnelInvitation | None, new: FunnelInvitation | None, dimensions: Iterable[str]
) -> dict[AggregateKey, FunnelDelta]:
    """What one invitation change does to the funnel days: ``new - old``, keys that cancel left out."""
    dims = tuple(dimensions)
    parts = []
    for image, sign in ((old, -1), (new, +1)):
        if image is not None:
            day = image.created_at.astimezone(UTC).date()
            parts += _signed(
                image.program_id, image.context, day, stages=invitation_stages(image), sign=sign, dims=dims
            )
    return coalesce(parts)  # type: ignore[return-value]  # funnel keys, funnel deltas


def response_changes(
    old: Response | None, new: Response | None, dimensions: Iterable[str]
) -> dict[AggregateKey, FunnelDelta]:
    """What one response change does to the funnel days of its invitation's day."""
    dims = tuple(dimensions)
    parts = []
    for image, sign in ((old, -1), (new, +1)):
        if image is not None and image.invited_at is not None:
            day = image.invited_at.astimezone(UTC).date()
            parts += _signed(image.program_id, image.context, day, stages=response_stages(image), sign=sign, dims=dims)
    return coalesce(parts)  # type: ignore[return-value]  # funnel keys, funnel deltas


# -- read side ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelDay:
    """One stored funnel day as read back."""

    dimension: str
    value: str
    day: date
    counts: dict[str, int]


@dataclass(frozen=True)
class Stage:
    name: str
    count: int
    of_invited: float | None  # share of the invitations sent; None when none were sent
    of_delivered: float | None  # share of those delivered (stages after delivery only)
    at_least: bool = False  # opened: SES's tracking image saw fewer opens than there are answers (see funnel_of)


@dataclass(frozen=True)
class Problem:
    name: str
    count: int
    rate: float | None  # of the invitations sent


@dataclass(frozen=True)
class Funnel:
    """The funnel of one segment over a range of invitation days."""

    dimension: str
    value: str
    first: date
    last: date
    stages: list[Stage]
    problems: list[Problem]
    skipped: int
    skipped_by_reason: list[tuple[str, int]]  # most frequent first
    failed: int

    @property
    def invited(self) -> int:
        return self.stages[0].count

    @property
    def empty(self) -> bool:
        return self.invited == 0 and self.skipped == 0 and self.failed == 0

    def as_dict(self) -> dict[str, Any]:
        """For JSON: dates as ISO strings, reasons as objects."""
        data = asdict(self)
        data["first"], data["last"] = self.first.isoformat(), self.last.isoformat()
        data["skipped_by_reason"] = [{"reason": r, "count": k} for r, k in self.skipped_by_reason]
        return data


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def funnel_of(days: Iterable[FunnelDay], dimension: str, value: str, first: date, last: date) -> Funnel:
    """Sum the days of one segment (those between ``first`` and ``last``) into its funnel."""
    total: dict[str, int] = {}
    for day in days:
        if day.dimension == dimension and day.value == value and first <= day.day <= last:
            for name, k in day.counts.items():
                total[name] = total.get(name, 0) + k
    invited, delivered = total.get(INVITED, 0), total.get(DELIVERED, 0)
    # Opens come from SES's tracking image, which many mail apps block; every answered email was opened, so
    # the opens are at least the answers (shown as "at least", never as fewer opens than answers).
    tracked_opens = total.get(OPENED, 0)
    if total.get(ANSWERED, 0) > tracked_opens:
        total[OPENED] = total[ANSWERED]
    stages = [
        Stage(
            name,
            total.get(name, 0),
            _share(total.get(name, 0), invited),
            _share(total.get(name, 0), delivered) if name not in (INVITED, DELIVERED) else None,
            at_least=name == OPENED and total.get(OPENED, 0) > tracked_opens,
        )
        for name in STAGES
    ]
    problems = [Problem(name, total.get(name, 0), _share(total.get(name, 0), invited)) for name in PROBLEMS]
    reasons = [(name.removeprefix(SKIPPED_PREFIX), k) for name, k in total.items() if name.startswith(SKIPPED_PREFIX)]
    reasons = sorted(((r, k) for r, k in reasons if k), key=lambda rk: (-rk[1], rk[0]))
    return Funnel(
        dimension=dimension,
        value=value,
        first=first,
        last=last,
        stages=stages,
        problems=problems,
        skipped=total.get(SKIPPED, 0),
        skipped_by_reason=reasons,
        failed=total.get(FAILED, 0),
    )
