"""HTML responses for the public pages: one place for security headers and error pages."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from npsloop.rendering import render_page, strings
from npsloop.services.respond import Page

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}


def html(page: Page, reason: str | None = None) -> Response:
    headers = {**SECURITY_HEADERS, "Content-Language": page.locale}
    if reason:
        headers["X-Npsloop-Reason"] = reason
    return Response(status_code=page.status, content_type="text/html; charset=utf-8", body=page.html, headers=headers)


def error(status: int, reason: str, locale: str, detail: str | None = None) -> Response:
    """A friendly page for people; the machine-readable reason travels in a header."""
    t = strings(locale)
    message = t.get(f"error_{reason}") or detail or t["error_invalid"]
    if detail and reason == "bad_answer":
        message = t["error_bad_answer"].format(reason=detail)
    return html(Page(status, render_page("error", locale, message=message), locale), reason=reason)
