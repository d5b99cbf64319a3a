"""The funnel partial rendered inside a minimal staff page, as the dashboard includes it (tests only)."""

from __future__ import annotations

from datetime import date

from npsloop.domain.brand import load_brand
from npsloop.domain.funnel import Funnel, FunnelDay, funnel_of
from npsloop.formats import Formats
from npsloop.rendering import _environment, strings

PAGE = (
    '{% extends "pages/app/base.html" %}{% block title %}Funnel{% endblock %}'
    '{% block content %}{% include "pages/app/_funnel.html" %}{% endblock %}'
)
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)


def sample_funnel() -> Funnel:
    counts = {
        "invited": 12840,
        "delivered": 12510,
        "opened": 6105,
        "answered": 2410,
        "commented": 1187,
        "bounced": 214,
        "complained": 6,
        "unsubscribed": 58,
        "failed": 17,
        "skipped": 3150,
        "skipped_recontact_window": 1900,
        "skipped_not_sampled": 800,
        "skipped_no_email_consent": 310,
        "skipped_suppressed": 140,
    }
    return funnel_of([FunnelDay("store", "KRK-02", FIRST, counts)], "store", "KRK-02", FIRST, LAST)


def empty_funnel() -> Funnel:
    return funnel_of([], "all", "all", FIRST, LAST)


def render(funnel: Funnel, locale: str) -> str:
    t = strings(locale)
    other = "en" if locale == "pl" else "pl"
    return _environment().from_string(PAGE).render(
        locale=locale, t=t, a=t["app"], brand=load_brand(), visitor=None, toggle=f"?lang={other}", other=other,
        funnel=funnel, fmt=Formats(locale),
    )  # fmt: skip
