"""The invite function across Lambda's retries: crashes at each point of a send, paused sending, the
stuck sweep, and the lease against the template's retry policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from npsloop.adapters.ses_mailer import SesMailer
from npsloop.domain.invitations import UNCONFIRMED_SEND, InvitationStatus
from npsloop.ports import MailUnavailable, OutgoingEmail
from npsloop.services.invite import CLAIM_LEASE, RETRY_HORIZON, InvitationDeferred
from npsloop_local.template import Template
from tests.conftest import ROOT
from tests.fakes import RecordingMailer

LAMBDA_RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=2))  # Lambda's async retries (2 by the template)


class Killed(BaseException):
    """The execution environment dies (timeout, out of memory): no except clause of ours runs."""


def through_lambda(invite, envelope, clock) -> tuple[list, BaseException | None]:
    """One asynchronous event through Lambda's attempts: (each attempt's outcome or error, the last error
    if the event ended in the DLQ)."""
    attempts: list = []
    for delay in (timedelta(0), *LAMBDA_RETRY_DELAYS):
        clock.advance(delay)
        try:
            attempts.append(invite.accept(envelope))
            return attempts, None
        except BaseException as exc:
            attempts.append(exc)
    return attempts, attempts[-1]


class CrashOnce:
    """Wraps a port method: crashes the first call, before or after doing the real work."""

    def __init__(self, target, method: str, *, after: bool, error: BaseException) -> None:
        self.real = getattr(target, method)
        self.after, self.error, self.armed = after, error, True
        setattr(target, method, self)

    def __call__(self, *args, **kwargs):
        if not self.armed:
            return self.real(*args, **kwargs)
        self.armed = False
        if not self.after:
            raise self.error
        self.real(*args, **kwargs)
        raise self.error


CRASH_POINTS = {
    # where the first attempt dies: (which port method, after its work?, how)
    "error before the send": ("keys", "signing_keys", False, RuntimeError("secret unavailable")),
    "killed before SES accepted": ("mailer", "send", False, Killed()),
    "killed after SES accepted": ("mailer", "send", True, Killed()),
    "killed after marking sent": ("store", "mark_sent", True, Killed()),
}
# emails in the end (retries, the sweep, then a redrive of the DLQ), and the invitation's final state
EXPECTED = {
    "error before the send": (1, InvitationStatus.SENT, None),
    "killed before SES accepted": (0, InvitationStatus.FAILED, UNCONFIRMED_SEND),
    "killed after SES accepted": (1, InvitationStatus.FAILED, UNCONFIRMED_SEND),
    "killed after marking sent": (1, InvitationStatus.SENT, None),
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_a_crash_at_any_point_of_a_send_never_gives_a_second_email(
    point, invite, sweep, mailer, keys, store, event, clock
):
    holder, method, after, error = CRASH_POINTS[point]
    CrashOnce({"keys": keys, "mailer": mailer, "store": store}[holder], method, after=after, error=error)
    envelope = event("order-completed.json")

    _, dead_lettered = through_lambda(invite, envelope, clock)
    clock.advance(CLAIM_LEASE)
    sweep.sweep()
    if dead_lettered is not None:
        invite.accept(envelope)  # the operator redrives the DLQ

    (invitation,) = store.invitations.values()
    emails, status, reason = EXPECTED[point]
    print(f"crash {point!r}: {len(mailer.sent)} email(s), invitation {invitation.status.value} {reason or ''}")
    assert len(mailer.sent) == emails
    assert (invitation.status, invitation.failure_reason) == (status, reason)
    if status is InvitationStatus.FAILED:
        assert "post-purchase-nps" not in store.profiles["C-100234"].last_contacted


def test_a_retry_meeting_a_claim_whose_send_is_unknown_does_not_resend(invite, mailer, store, event, clock):
    CrashOnce(mailer, "send", after=True, error=Killed())

    attempts, dead_lettered = through_lambda(invite, event("order-completed.json"), clock)

    assert len(mailer.sent) == 1
    assert [type(a).__name__ for a in attempts] == ["Killed", "InvitationInFlight", "InvitationInFlight"]
    assert dead_lettered is not None
    (invitation,) = store.invitations.values()
    assert invitation.status is InvitationStatus.PENDING


def test_paused_sending_releases_the_claim_and_the_ledger_and_the_redrive_sends_it(
    invite, sweep, mailer, store, event, clock
):
    mailer.unavailable_with = "SendingPausedException"
    envelope = event("order-completed.json")

    attempts, dead_lettered = through_lambda(invite, envelope, clock)
    (invitation,) = store.invitations.values()
    waiting = (invitation.status, invitation.lease_until, dict(store.profiles["C-100234"].last_contacted))
    clock.advance(CLAIM_LEASE + timedelta(days=1))  # paused for a day: the sweep leaves it alone
    swept = sweep.sweep()
    mailer.unavailable_with = None  # the operator resumes sending, then redrives the DLQ
    redriven = invite.accept(envelope)

    assert all(isinstance(a, InvitationDeferred) for a in attempts)
    assert isinstance(dead_lettered, InvitationDeferred)
    assert waiting == (InvitationStatus.PENDING, None, {})
    assert swept == {"settled": 0}
    assert redriven[0].result == "sent"
    assert len(mailer.sent) == 1
    assert store.invitations[invitation.invitation_id].status is InvitationStatus.SENT


def test_paused_sending_does_not_block_another_delivery_of_the_same_order(invite, mailer, event, clock):
    mailer.unavailable_with = "SendingPausedException"
    with pytest.raises(InvitationDeferred):
        invite.accept(event("order-completed.json"))
    mailer.unavailable_with = None
    clock.advance(timedelta(minutes=1))

    assert invite.accept(event("order-completed.json"))[0].result == "sent"


def test_the_sweep_waits_for_the_lease_and_leaves_a_later_invitations_stamp(invite, sweep, mailer, store, event, clock):
    from npsloop.domain.invitations import invitation_id_for

    CrashOnce(mailer, "send", after=False, error=Killed())
    with pytest.raises(Killed):
        invite.accept(event("order-completed.json"))
    invitation_id = invitation_id_for("post-purchase-nps", "order_id:ORD-2026-5531")
    clock.advance(CLAIM_LEASE - timedelta(seconds=1))
    early = sweep.sweep()
    profile = store.profiles["C-100234"]
    store.profiles["C-100234"] = profile.model_copy(update={"last_invitation": {"post-purchase-nps": "a-later-one"}})
    clock.advance(timedelta(seconds=2))

    assert early == {"settled": 0}
    assert sweep.sweep() == {"settled": 1}
    assert sweep.sweep() == {"settled": 0}
    assert store.invitations[invitation_id].status is InvitationStatus.FAILED
    assert "post-purchase-nps" in store.profiles["C-100234"].last_contacted  # not this invitation's stamp


def test_the_lease_outlives_every_retry_the_template_allows():
    resources = Template.load(ROOT / "template.yaml").resources
    invite = resources["InviteFunction"]["Properties"]
    rule_age = invite["Events"]["BusinessEvent"]["Properties"]["RetryPolicy"]["MaximumEventAgeInSeconds"]
    lambda_age = invite["EventInvokeConfig"]["MaximumEventAgeInSeconds"]

    assert timedelta(seconds=rule_age + lambda_age) <= RETRY_HORIZON
    assert RETRY_HORIZON + timedelta(seconds=invite.get("Timeout", 10)) < CLAIM_LEASE


# -- the SES adapter ---------------------------------------------------------------------------
EMAIL = OutgoingEmail(sender="s@example.com", recipient="r@example.com", raw=b"x", tags={})


class SesStub:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = 0

    def send_email(self, **_request):
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {"MessageId": answer}


def ses_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "SendEmail")


@pytest.mark.parametrize(
    "code", ["SendingPausedException", "AccountSendingPausedException", "ConfigurationSetSendingPausedException"]
)
def test_ses_refusing_because_sending_is_paused_is_unavailable_not_rejected(code):
    with pytest.raises(MailUnavailable, match=code):
        SesMailer("npsloop-dev", SesStub(ses_error(code))).send(EMAIL)


def test_ses_throttling_is_retried_by_the_adapter():
    client = SesStub(ses_error("TooManyRequestsException"), "msg-1")

    assert SesMailer("npsloop-dev", client, sleep=lambda _s: None).send(EMAIL) == "msg-1"
    assert client.calls == 2


def test_an_ses_call_whose_answer_timed_out_is_never_repeated(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    client = SesStub(ReadTimeoutError(endpoint_url="https://email.eu-west-1.amazonaws.com"), "msg-2")

    with pytest.raises(ReadTimeoutError):  # not MailUnavailable: SES may have accepted it
        SesMailer("npsloop-dev", client).send(EMAIL)
    assert client.calls == 1
    assert SesMailer("npsloop-dev")._client.meta.config.retries["total_max_attempts"] == 1


def test_a_recording_mailer_that_is_paused_sends_nothing():
    mailer = RecordingMailer()
    mailer.unavailable_with = "SendingPausedException"
    with pytest.raises(MailUnavailable):
        mailer.send(EMAIL)
    assert mailer.sent == []
