"""Digests through the local stack on the injected clock: answers at a daily-digest region over a day
reach the alert function by the stream and are kept, not emailed; the ``Digests`` schedule of
template.yaml fires at 5 past the digest hour and sends one email to the owner with all of them; a
redelivered or later run sends nothing more. IAM is enforced (the ``stack`` fixture)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from npsloop_local.template import Template
from tests.conftest import ROOT
from tests.fakes_cases import response_image
from tests.integration.test_alert_cases import write_response

LUBLIN = {"store": "LUB-01", "region": "lubelskie", "channel": "web"}  # routing.toml: a daily digest at 08:00


def warsaw(*args) -> datetime:
    """A Warsaw wall-clock time in November (CET, UTC+1) as UTC."""
    return datetime(*args, tzinfo=UTC) - timedelta(hours=1)


def answer(stack, table, clock, invitation_id: str, score: int, comment: str | None, at: datetime) -> None:
    clock.set(at)
    image = response_image(invitation_id, score=score, comment=comment, created_at=at)
    image["context"] = dict(LUBLIN)
    write_response(table, image)
    stack.drain()


def to_anna(stack) -> list:
    return [m for m in stack.outbox_messages() if m["To"] == "anna.nowak@example.com"]


def test_a_days_answers_go_out_as_one_digest_at_the_digest_hour_and_a_second_run_sends_nothing(stack, table, clock):
    answer(stack, table, clock, "inv-d1", 2, "Długa kolejka do kasy", warsaw(2026, 11, 20, 11, 40))
    answer(stack, table, clock, "inv-d2", 0, "Rezygnuję z karty", warsaw(2026, 11, 20, 16, 10))
    answer(stack, table, clock, "inv-d3", 4, None, warsaw(2026, 11, 21, 7, 50))
    assert to_anna(stack) == []  # nothing at once: her Lublin alerts are for the digest
    assert len(table.items("digest_item")) == 3 and len(table.items("case")) == 3

    clock.set(warsaw(2026, 11, 21, 8, 6))
    stack.drain()  # the Digests schedule fired at 08:05
    schedule = Template.load(ROOT / "template.yaml").resources["CasesFunction"]["Properties"]["Events"]["Digests"]
    again = stack.invoke("CasesFunction", json.loads(schedule["Properties"]["Input"]))  # a redelivered run
    clock.set(warsaw(2026, 11, 21, 9, 30))
    stack.drain()  # later runs of the same day

    assert again == {"digests_sent": 0, "digests_skipped": 2}
    (digest,) = to_anna(stack)
    assert digest["Subject"] == "Podsumowanie dnia 21.11.2026: 3 powiadomienia"
    text = digest.get_body(("plain",)).get_content()
    for comment in ("Długa kolejka do kasy", "Rezygnuję z karty", "Bez komentarza."):
        assert comment in text
    assert all(f"/cases/inv-d{i}" in text for i in (1, 2, 3))
    assert "Kontakt z klientem do" in text  # each line's SLA due
    (claim,) = [i for i in table.items("alert") if i["sk"]["S"] == "DIGEST#SENT"]
    assert claim["status"]["S"] == "sent" and claim["pk"]["S"] == "INV#DIGEST#u-anna.nowak#2026-11-21T07:00Z"


def test_the_runs_between_two_send_times_make_no_aws_call_and_the_next_period_is_read_once(stack, table, clock):
    from npsloop_local.metering import AwsMeter

    meter = AwsMeter().install()  # before the function's first client: clients copy the session's hooks
    try:
        answer(stack, table, clock, "inv-d1", 2, "Długa kolejka do kasy", warsaw(2026, 11, 20, 11, 40))
        clock.set(warsaw(2026, 11, 21, 8, 6))
        stack.drain()  # the 08:05 run reads both owners' digests and sends Anna's
        assert len(to_anna(stack)) == 1

        meter.reset()
        idle = []
        for quarter in range(1, 5):  # the schedule's next runs, as EventBridge invokes them
            clock.set(warsaw(2026, 11, 21, 8, 5) + timedelta(minutes=15 * quarter))
            idle.append(stack.invoke("CasesFunction", {"task": "digests"}))
        idle_calls = meter.snapshot()[0]

        meter.reset()
        clock.set(warsaw(2026, 11, 22, 8, 5))
        next_day = stack.invoke("CasesFunction", {"task": "digests"})
        next_day_calls = meter.snapshot()[0]
    finally:
        meter.uninstall()

    assert idle == [{"digests_sent": 0, "digests_skipped": 2}] * 4
    assert sum(idle_calls.values()) == 0  # both digests settled (sent; empty): nothing to read
    assert next_day == {"digests_sent": 0, "digests_skipped": 2}
    assert next_day_calls == {"dynamodb:Query": 1}  # Anna's new (empty) day; the weekly one is still settled
    assert len(to_anna(stack)) == 1
