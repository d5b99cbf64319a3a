from __future__ import annotations

import pytest

from npsloop.domain.brand import load_brand
from npsloop.domain.programs import load_programs
from npsloop.services.invite import InviteService, SenderIdentity
from npsloop.services.invite_sweep import InvitationSweep
from npsloop.services.respond import RespondService
from tests.fakes import InMemoryStore, ListParking, RecordingMailer, StaticKeys

BASE_URL = "https://surveys.example.com"


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture
def keys() -> StaticKeys:
    return StaticKeys()


@pytest.fixture
def parking() -> ListParking:
    return ListParking()


@pytest.fixture
def invite(store, mailer, keys, parking, clock) -> InviteService:
    return InviteService(
        programs=load_programs(),
        invitations=store,
        mailer=mailer,
        keys=keys,
        parking=parking,
        sender=SenderIdentity("surveys@example.com", BASE_URL),
        brand=load_brand(),
        clock=clock,
    )


@pytest.fixture
def respond(store, keys, clock) -> RespondService:
    return RespondService(
        programs=load_programs(),
        invitations=store,
        responses=store,
        customers=store,
        keys=keys,
        brand=load_brand(),
        clock=clock,
    )


@pytest.fixture
def sweep(store, clock) -> InvitationSweep:
    return InvitationSweep(invitations=store, clock=clock)
