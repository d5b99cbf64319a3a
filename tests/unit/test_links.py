from datetime import UTC, datetime, timedelta

import pytest

from npsloop.domain.links import ExpiredLink, InvalidLink, LinkPurpose, SigningKeys, sign, verify

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
KEYS = SigningKeys(current=b"c" * 48)
INVITATION = "fkmdb5zbwtrfie5hy4zxsyonnbuknypn"


def test_a_signed_link_verifies_and_returns_its_invitation():
    token = sign(KEYS, LinkPurpose.RESPOND, INVITATION, NOW + timedelta(days=30))

    claims = verify(KEYS, LinkPurpose.RESPOND, token, NOW)

    assert claims.invitation_id == INVITATION
    assert claims.expires_at == NOW + timedelta(days=30)


def test_a_token_carries_only_the_opaque_invitation_id_expiry_and_signature():
    token = sign(KEYS, LinkPurpose.RESPOND, INVITATION, NOW + timedelta(days=30))

    invitation_id, expiry, signature = token.split(".")

    assert invitation_id == INVITATION
    assert int(expiry, 36) == int((NOW + timedelta(days=30)).timestamp())
    assert len(signature) == 22  # 128-bit HMAC, base64url


@pytest.mark.parametrize("position", [0, 5, -1])
def test_a_tampered_token_is_rejected(position):
    token = sign(KEYS, LinkPurpose.RESPOND, INVITATION, NOW + timedelta(days=30))
    flipped = "b" if token[position] != "b" else "c"
    tampered = token[:position] + flipped + token[position + 1 :] if position != -1 else token[:-1] + flipped

    with pytest.raises(InvalidLink):
        verify(KEYS, LinkPurpose.RESPOND, tampered, NOW)


def test_a_later_expiry_cannot_be_forged_onto_a_token():
    token = sign(KEYS, LinkPurpose.RESPOND, INVITATION, NOW + timedelta(days=1))
    invitation_id, _expiry, signature = token.split(".")
    forged = f"{invitation_id}.zzzzzz.{signature}"

    with pytest.raises(InvalidLink):
        verify(KEYS, LinkPurpose.RESPOND, forged, NOW)


def test_a_response_token_does_not_work_as_an_unsubscribe_token():
    token = sign(KEYS, LinkPurpose.RESPOND, INVITATION, NOW + timedelta(days=30))

    with pytest.raises(InvalidLink):
        verify(KEYS, LinkPurpose.UNSUBSCRIBE, token, NOW)


def test_an_expired_token_is_refused_as_expired():
    token = sign(KEYS, LinkPurpose.RESPOND, INVITATION, NOW + timedelta(days=30))

    with pytest.raises(ExpiredLink):
        verify(KEYS, LinkPurpose.RESPOND, token, NOW + timedelta(days=30))


def test_links_signed_before_a_key_rotation_still_verify_with_the_previous_key():
    old = SigningKeys(current=b"o" * 48)
    token = sign(old, LinkPurpose.RESPOND, INVITATION, NOW + timedelta(days=30))
    rotated = SigningKeys(current=b"n" * 48, previous=b"o" * 48)

    assert verify(rotated, LinkPurpose.RESPOND, token, NOW).invitation_id == INVITATION


def test_links_signed_with_a_retired_key_are_rejected():
    old = SigningKeys(current=b"o" * 48)
    token = sign(old, LinkPurpose.RESPOND, INVITATION, NOW + timedelta(days=30))
    twice_rotated = SigningKeys(current=b"x" * 48, previous=b"n" * 48)

    with pytest.raises(InvalidLink):
        verify(twice_rotated, LinkPurpose.RESPOND, token, NOW)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "a.b.c.d", "x" * 200, "../../etc/passwd"])
def test_malformed_tokens_are_invalid(garbage):
    with pytest.raises(InvalidLink):
        verify(KEYS, LinkPurpose.RESPOND, garbage, NOW)


def test_a_short_key_is_refused():
    with pytest.raises(ValueError, match="at least 32 bytes"):
        SigningKeys(current=b"short")


@pytest.mark.parametrize("token", ["aaaa.bbbb.żżżżżżżżżżżżżżżżżżżżżż", "ż.1.abc", "a.b.c\x00"])
def test_non_ascii_tokens_are_invalid_rather_than_a_crash(token):
    with pytest.raises(InvalidLink):
        verify(KEYS, LinkPurpose.RESPOND, token, NOW)
