from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from npsloop import clock as clock_module
from npsloop.clock import ManualClock
from npsloop.settings import Settings

ENV = {
    "STAGE": "dev",
    "TABLE_NAME": "npsloop-dev",
    "LINK_SECRET_ID": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:npsloop/dev/link-signing",
    "PUBLIC_BASE_URL": "https://surveys.example.com/",
    "UNRELATED": "ignored",
}


def test_settings_come_from_the_function_environment():
    settings = Settings.from_environment(ENV)

    assert settings.table_name == "npsloop-dev"
    assert settings.public_base_url == "https://surveys.example.com"  # no trailing slash in links
    assert settings.sender_address is None


def test_a_missing_setting_is_named():
    env = {k: v for k, v in ENV.items() if k != "TABLE_NAME"}

    with pytest.raises(ValidationError, match="table_name"):
        Settings.from_environment(env)


def test_a_base_url_that_is_not_http_is_refused():
    with pytest.raises(ValidationError, match="public_base_url"):
        Settings.from_environment({**ENV, "PUBLIC_BASE_URL": "javascript:alert(1)"})


def test_a_manual_clock_moves_only_when_told():
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))

    assert clock.now() == clock.now()
    clock.advance(timedelta(days=90))
    assert clock.now() == datetime(2026, 4, 1, tzinfo=UTC)


def test_a_manual_clock_needs_an_aware_start():
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 1, 1))


def test_an_installed_clock_replaces_the_system_clock_until_removed():
    manual = ManualClock(datetime(2030, 1, 1, tzinfo=UTC))

    clock_module.install(manual)
    try:
        assert clock_module.current().now().year == 2030
    finally:
        clock_module.install(None)
    assert clock_module.current().now().year < 2030
