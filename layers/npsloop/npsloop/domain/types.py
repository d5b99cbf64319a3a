"""Constrained types shared by every boundary model."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

Identifier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-/#@]+$"),
]
"""An upstream id (customer, order, ticket, visit, event): printable, no spaces, no personal data."""

Slug = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
"""Our own ids: programs and templates."""

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
"""A segment value such as a store code or a region name."""

EmailAddress = Annotated[
    str,
    # ASCII only: SES wants an internationalised domain in punycode and sends no SMTPUTF8 mailboxes.
    StringConstraints(
        strip_whitespace=True,
        max_length=254,
        pattern=r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]{2,}$",
    ),
]

PhoneNumber = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+[1-9][0-9]{6,14}$")]
"""E.164."""


def _normalise_locale(value: object) -> object:
    if isinstance(value, str):
        return value.strip().replace("_", "-").split("-")[0].lower()
    return value


Locale = Annotated[str, BeforeValidator(_normalise_locale), Field(pattern=r"^(pl|en)$")]
"""A supported language; 'pl-PL' and 'en_GB' are accepted and reduced to 'pl' and 'en'."""


def _check_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("not a known IANA time zone name") from exc
    return value


TimeZoneName = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_check_time_zone)]
