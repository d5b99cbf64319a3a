"""Composition root of the invite function."""

from __future__ import annotations

from npsloop import clock
from npsloop.adapters.parking_queue import ParkingQueue
from npsloop.adapters.ses_mailer import SesMailer
from npsloop.services.invite import InviteService, SenderIdentity
from npsloop.wiring.container import brand, component, link_keys, programs, settings, table


@component
def invite_service() -> InviteService:
    config = settings()
    sender, queue_url, bucket, _ = config.require(
        "sender_address", "parking_queue_url", "parking_bucket", "public_base_url"
    )
    return InviteService(
        programs=programs(),
        invitations=table(),
        mailer=SesMailer(config.configuration_set),
        keys=link_keys(),
        parking=ParkingQueue(queue_url, bucket=bucket),
        sender=SenderIdentity(sender, config.public_base_url),
        brand=brand(),
        clock=clock.current(),
    )
