"""The scheduled reports' stop link: ``/reports/stop/<token>`` (served by the respond function).

The token is a signed link (``LinkPurpose.REPORT_STOP``) carrying the preference id, a hash of the
report and the person, so the link names nobody. GET shows a page with one button and writes
nothing (mail scanners fetch every link); the POST, from that page or a mail client's RFC 8058
one-click ``List-Unsubscribe-Post``, stores the preference. The worker reads it before each send, so
it is honoured from the next run.
"""

from __future__ import annotations

from npsloop.clock import Clock
from npsloop.domain.brand import Brand
from npsloop.domain.links import LinkPurpose, verify
from npsloop.observability import count, logger
from npsloop.ports import LinkKeyStore
from npsloop.ports.reports import ReportPreferences
from npsloop.rendering import render_page
from npsloop.services.respond import Page

LANGUAGES = ("pl", "en")


def page_language(requested: str | None, fallback: str) -> str:
    """The ``lang`` the email's link carries, else the browser's."""
    return requested if requested in LANGUAGES else fallback


class ReportStopService:
    def __init__(self, *, keys: LinkKeyStore, preferences: ReportPreferences, brand: Brand, clock: Clock) -> None:
        self._keys = keys
        self._preferences = preferences
        self._brand = brand
        self._clock = clock

    def page(self, token: str, locale: str, action: str) -> Page:
        self._verify(token)
        return Page(200, render_page("report_stop", locale, brand=self._brand, action=action), locale)

    def stop(self, token: str, locale: str) -> Page:
        preference = self._verify(token)
        self._preferences.opt_out(preference, self._clock.now())
        count("ReportsStopped")
        logger.info("report stopped by its recipient")
        return Page(200, render_page("report_stopped", locale, brand=self._brand), locale)

    def _verify(self, token: str) -> str:
        return verify(self._keys.signing_keys(), LinkPurpose.REPORT_STOP, token, self._clock.now()).invitation_id
