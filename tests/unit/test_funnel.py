"""The survey funnel: invitation and response changes -> funnel days, each stage once per invitation."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from npsloop.domain.funnel import FunnelDay, funnel_of
from npsloop.domain.programs import load_programs
from npsloop.services.funnel import FunnelService
from npsloop.services.score import ScoreService
from tests.fakes import ListParking
from tests.fakes_score import InMemoryAggregates, record, response
from tests.stream_records import batch

CREATED = datetime(2026, 11, 20, 23, 50, tzinfo=UTC)
DAY = CREATED.date()


@pytest.fixture
def aggregates() -> InMemoryAggregates:
    return InMemoryAggregates()


@pytest.fixture
def parking() -> ListParking:
    return ListParking()


@pytest.fixture
def service(aggregates, parking, clock) -> ScoreService:
    return ScoreService(programs=load_programs(), aggregates=aggregates, parking=parking, clock=clock)


def at(minutes: int) -> str:
    return (CREATED + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def invitation(number: int, status: str = "sent", store: str = "S01", **fields: Any) -> dict[str, Any]:
    """An invitation item as the invite and delivery functions store it (the fields the funnel reads and more)."""
    item = {
        "pk": f"INV#inv-{number:05d}",
        "sk": "INVITATION",
        "entity": "invitation",
        "invitation_id": f"inv-{number:05d}",
        "program_id": "post-purchase-nps",
        "program_version": 1,
        "template_id": "survey-invitation",
        "template_version": 1,
        "survey_type": "nps",
        "customer_id": f"C-{number}",
        "business_key": f"order_id:ORD-{number}",
        "event_id": f"evt-{number}",
        "locale": "pl",
        "time_zone": "Europe/Warsaw",
        "context": {"store": store, "region": "north", "channel": "web"},
        "vip": False,
        "status": status,
        "created_at": at(0),
    }
    if status == "sent":
        item |= {"sent_at": at(0), "message_id": f"0102-{number}", "delivery_status": "sent", "delivery_rank": 0}
    return item | fields


def answer(number: int, score: int, comment: str | None = None, version: int = 1, store: str = "S01"):
    """The response to ``invitation(number)``, given half an hour after it was created (the next UTC day)."""
    given = CREATED + timedelta(minutes=30)
    return response(number, score, comment=comment, version=version, created_at=given, store=store).model_copy(
        update={"invited_at": CREATED, "invitation_id": f"inv-{number:05d}"}
    )


def life_of(number: int, store: str = "S01") -> list[dict[str, Any]]:
    """One invitation claimed, sent, delivered, opened (twice reported), answered with a comment, edited."""
    pending = invitation(number, "pending", store, claim_token="t", lease_until=at(121))
    sent = invitation(number, "sent", store)
    delivered = sent | {"delivered_at": at(1), "delivery_status": "delivered", "delivery_rank": 3}
    opened = delivered | {"opened_at": at(5)}
    clicked = opened | {"clicked_at": at(6)}
    first = answer(number, 3, "Długo czekałem.", store=store)
    edited = answer(number, 8, "Długo czekałem, ale OK.", version=2, store=store)
    return [
        record("INSERT", new=pending),
        record("MODIFY", old=pending, new=sent),
        record("MODIFY", old=sent, new=delivered),
        record("MODIFY", old=delivered, new=opened),
        record("MODIFY", old=opened, new=clicked),  # a later report: no stage of the funnel
        record("INSERT", new=first),
        record("MODIFY", old=first, new=edited),
    ]


FULL = {"invited": 1, "delivered": 1, "opened": 1, "answered": 1, "commented": 1}


def test_each_stage_counts_once_per_invitation_in_every_segment(service, aggregates):
    service.handle(batch(*life_of(1)))

    for dimension, value in (("all", "all"), ("store", "S01"), ("region", "north"), ("channel", "web")):
        assert aggregates.stages(dimension, value) == FULL


def test_stages_count_on_the_invitations_day_not_the_answers(service, aggregates):
    service.handle(batch(*life_of(1)))

    days = {key.day for key in aggregates.funnel}
    assert days == {DAY}  # the answer came at 00:20 the next day; it counts with its invitation


def test_a_replayed_batch_changes_nothing(service, aggregates):
    event = batch(*life_of(1), *life_of(2, store="S02"))
    service.handle(event)
    before = copy.deepcopy(aggregates.funnel)

    replay = service.handle(copy.deepcopy(event))

    assert replay.replayed_chunks == 1
    assert {k: v.counts for k, v in aggregates.funnel.items()} == {k: v.counts for k, v in before.items()}
    assert aggregates.stages() == dict.fromkeys(FULL, 2)


def test_records_redelivered_in_later_batches_count_once(service, aggregates):
    records = life_of(1)
    service.handle(batch(*records[:4]))
    service.handle(batch(*copy.deepcopy(records[:4])))  # the same batch, redelivered whole
    service.handle(batch(*records[4:]))

    assert aggregates.stages() == FULL


def test_reports_out_of_order_count_each_stage_once(service, aggregates):
    # SES's open report arrives before its delivery report; then a late duplicate of the delivery.
    sent = invitation(1)
    opened = sent | {"opened_at": at(5)}
    both = opened | {"delivered_at": at(1), "delivery_status": "delivered", "delivery_rank": 3}
    again = both | {"delivery_status": "delivered"}  # if_not_exists kept delivered_at: the same stages

    service.handle(batch(record("INSERT", new=sent), record("MODIFY", old=sent, new=opened)))
    service.handle(batch(record("MODIFY", old=opened, new=both), record("MODIFY", old=both, new=again)))

    assert aggregates.stages() == {"invited": 1, "delivered": 1, "opened": 1}


def test_bounce_complaint_unsubscribe_and_failures(service, aggregates):
    bounced = invitation(1) | {"bounced_at": at(1), "bounce_type": "Permanent"}
    delivered = invitation(2) | {"delivered_at": at(1)}
    complained = delivered | {"complained_at": at(9)}
    unsubscribed = delivered | {"unsubscribed_at": at(8)}
    failed = invitation(4, "failed", failure_reason="MessageRejected")
    refused_later = invitation(5) | {"delivery_failed_at": at(1), "delivery_failure": "on_account_suppression_list"}
    unsubscribed_3 = unsubscribed | {"pk": "INV#inv-00003", "invitation_id": "inv-00003"}

    service.handle(
        batch(
            record("INSERT", new=bounced),
            record("INSERT", new=delivered),
            record("MODIFY", old=delivered, new=complained),
            record("INSERT", new=unsubscribed_3),
            record("INSERT", new=failed),
            record("INSERT", new=refused_later),
        )
    )

    assert aggregates.stages() == {
        "invited": 4,  # 1, 2, 3 and 5 were sent; 4 was refused at once
        "delivered": 2,
        "bounced": 1,
        "complained": 1,
        "unsubscribed": 1,
        "failed": 2,
    }


def test_skips_count_by_reason(service, aggregates):
    skips = [
        invitation(n, "skipped", skip_reason=reason)
        for n, reason in enumerate(["not_sampled", "not_sampled", "recontact_window", "no_email_consent"])
    ]

    service.handle(batch(*(record("INSERT", new=item) for item in skips)))

    assert aggregates.stages() == {
        "skipped": 4,
        "skipped_not_sampled": 2,
        "skipped_recontact_window": 1,
        "skipped_no_email_consent": 1,
    }


def test_pending_counts_nothing_until_sent_and_a_released_claim_nothing_twice(service, aggregates):
    pending = invitation(1, "pending", claim_token="t", lease_until=at(121))
    released = invitation(1, "pending")
    sent = invitation(1)

    service.handle(batch(record("INSERT", new=pending), record("MODIFY", old=pending, new=released)))
    assert aggregates.stages() == {}

    service.handle(batch(record("MODIFY", old=released, new=sent)))
    assert aggregates.stages() == {"invited": 1}


def test_a_response_edit_does_not_count_twice_and_a_removed_comment_is_taken_back(service, aggregates):
    first = answer(1, 3, "Za długo.")
    edited = answer(1, 6, "Za długo, ale miło.", version=2)
    without = answer(1, 7, None, version=3)
    again = answer(1, 7, "Jednak dobrze.", version=4)

    service.handle(batch(record("INSERT", new=first), record("MODIFY", old=first, new=edited)))
    assert aggregates.stages() == {"answered": 1, "commented": 1}

    service.handle(batch(record("MODIFY", old=edited, new=without)))
    assert aggregates.stages() == {"answered": 1}

    service.handle(batch(record("MODIFY", old=without, new=again)))
    assert aggregates.stages() == {"answered": 1, "commented": 1}


def test_imported_answers_stay_outside_the_funnel(service, aggregates):
    imported = response(1, 9, comment="Super")  # no invited_at: there was no invitation
    item = imported.model_dump(mode="json", exclude_none=True) | {"imported": True, "source": "delighted"}

    service.handle(batch(record("INSERT", new=item)))

    assert aggregates.funnel == {}
    assert aggregates.counts() == (1, {9: 1})  # scored all the same


def test_an_invitation_image_the_funnel_cannot_read_is_parked(service, aggregates, parking):
    broken = invitation(1) | {"status": "lost"}

    outcome = service.handle(batch(record("INSERT", new=broken), record("INSERT", new=invitation(2))))

    assert outcome.parked == 1 and "not a valid invitation (status)" in parking.parked[0][1]
    assert aggregates.stages() == {"invited": 1}


def test_the_funnel_service_reads_one_segment_and_computes_rates(service, aggregates):
    records = [r for n in range(4) for r in life_of(n, store="S01" if n < 3 else "S02")]
    never_opened = invitation(9, store="S02") | {"delivered_at": at(1)}
    skipped = invitation(10, "skipped", store="S02", skip_reason="not_sampled")
    service.handle(batch(*records, record("INSERT", new=never_opened), record("INSERT", new=skipped)))

    funnel = FunnelService(reader=aggregates).funnel("post-purchase-nps", ("store", "S01"), DAY, DAY)

    assert aggregates.queries == 1
    assert [(s.name, s.count) for s in funnel.stages] == [(name, 3) for name in FULL]
    overall = FunnelService(reader=aggregates).funnel("post-purchase-nps", ("all", "all"), DAY, DAY)
    assert [(s.name, s.count, s.of_invited, s.of_delivered) for s in overall.stages] == [
        ("invited", 5, 1.0, None),
        ("delivered", 5, 1.0, None),
        ("opened", 4, 0.8, 0.8),
        ("answered", 4, 0.8, 0.8),
        ("commented", 4, 0.8, 0.8),
    ]
    assert overall.skipped_by_reason == [("not_sampled", 1)]
    as_json = overall.as_dict()
    assert as_json["first"] == "2026-11-20" and as_json["skipped_by_reason"] == [{"reason": "not_sampled", "count": 1}]
    later = FunnelService(reader=aggregates).funnel(
        "post-purchase-nps", ("all", "all"), DAY + timedelta(1), DAY + timedelta(2)
    )
    assert later.empty


def test_funnel_of_sums_days_and_leaves_rates_undefined_without_invitations():
    days = [
        FunnelDay("all", "all", date(2026, 11, 1), {"invited": 10, "delivered": 8, "bounced": 1, "skipped": 2}),
        FunnelDay("all", "all", date(2026, 11, 2), {"invited": 10, "delivered": 10, "opened": 9}),
        FunnelDay("all", "all", date(2026, 11, 2), {"skipped_objected": 2}),
        FunnelDay("all", "all", date(2026, 11, 3), {"invited": 99}),  # outside the range
    ]

    funnel = funnel_of(days, "all", "all", date(2026, 11, 1), date(2026, 11, 2))
    nothing = funnel_of([], "all", "all", date(2026, 11, 1), date(2026, 11, 2))

    assert funnel.invited == 20 and funnel.stages[1].of_invited == 0.9 and funnel.stages[2].of_delivered == 0.5
    assert [(p.name, p.count, p.rate) for p in funnel.problems] == [
        ("bounced", 1, 0.05),
        ("complained", 0, 0.0),
        ("unsubscribed", 0, 0.0),
    ]
    assert funnel.skipped_by_reason == [("objected", 2)]
    assert nothing.empty and all(s.of_invited is None for s in nothing.stages)


def test_answered_emails_count_as_opened_when_the_tracking_image_saw_fewer():
    blocked = [FunnelDay("all", "all", date(2026, 11, 1), {"invited": 10, "delivered": 10, "opened": 2, "answered": 5})]
    tracked = [FunnelDay("all", "all", date(2026, 11, 1), {"invited": 10, "delivered": 10, "opened": 7, "answered": 5})]

    opened = funnel_of(blocked, "all", "all", date(2026, 11, 1), date(2026, 11, 1)).stages[2]
    seen = funnel_of(tracked, "all", "all", date(2026, 11, 1), date(2026, 11, 1)).stages[2]

    assert (opened.name, opened.count, opened.at_least, opened.of_delivered) == ("opened", 5, True, 0.5)
    assert (seen.count, seen.at_least) == (7, False)  # the image saw more opens than answers: as counted
