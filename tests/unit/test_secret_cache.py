"""The secrets (link keys, pseudonym key) are read once and then cached for five minutes per container."""

from __future__ import annotations

import json

import boto3
from botocore.stub import Stubber

from npsloop.adapters.link_secret import SecretLinkKeys
from npsloop.adapters.secret_json import CACHE_SECONDS, CachedSecret

ONE, TWO = "1" * 32, "2" * 32


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _stubbed(*values):
    client = boto3.client("secretsmanager", region_name="eu-west-1")
    stubber = Stubber(client)
    for value in values:
        stubber.add_response(
            "get_secret_value",
            {"SecretString": json.dumps(value), "Name": "npsloop-links"},
            {"SecretId": "npsloop-links"},
        )
    stubber.activate()
    return client, stubber


def test_the_secret_is_read_once_then_again_after_five_minutes():
    # GIVEN a secret that is rotated between the two reads the cache lets through
    client, stubber = _stubbed({"current": ONE}, {"current": TWO, "previous": ONE})
    clock = _Clock()
    keys = SecretLinkKeys("npsloop-links", CachedSecret("npsloop-links", client=client, monotonic=clock))

    # WHEN the keys are read now and just under five minutes later
    first = keys.signing_keys()
    clock.now += CACHE_SECONDS - 1
    cached = keys.signing_keys()
    # THEN Secrets Manager was called once, and the old value still served
    assert first.current == cached.current == ONE.encode()
    assert first.previous is None

    # WHEN five minutes have passed
    clock.now += 1
    rotated = keys.signing_keys()
    # THEN the secret is read again
    assert (rotated.current, rotated.previous) == (TWO.encode(), ONE.encode())
    stubber.assert_no_pending_responses()


def test_the_cache_lasts_five_minutes():
    assert CACHE_SECONDS == 300  # README: "Functions cache the secret for five minutes"
