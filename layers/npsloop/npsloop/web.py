"""HTML responses for the public pages: one place for security headers and error pages."""

from __future__ import annotations

import binascii

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from npsloop.rendering import render_page, strings
from npsloop.services.respond import MalformedForm, Page

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}
# The staff pages may run the stack's own scripts (/static/...) and poll their own routes; nothing else.
APP_SECURITY_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}


def html(page: Page, reason: str | None = None) -> Response:
    headers = {**SECURITY_HEADERS, "Content-Language": page.locale}
    if reason:
        headers["X-Npsloop-Reason"] = reason
    return Response(status_code=page.status, content_type="text/html; charset=utf-8", body=page.html, headers=headers)


def error(status: int, reason: str, locale: str) -> Response:
    """A friendly page for people, in their language; the machine-readable reason travels in a header."""
    t = strings(locale)
    if reason == "malformed":
        message = t["error_bad_answer"].format(reason=t["reason"]["malformed"])
    else:
        message = t.get(f"error_{reason}") or t["error_invalid"]
    return html(Page(status, render_page("error", locale, message=message), locale), reason=reason)


def form_body(event: BaseProxyEvent) -> str | None:
    """The request body as text; one that is not UTF-8 is a malformed form, not a server error."""
    try:
        return event.decoded_body
    except (UnicodeDecodeError, binascii.Error) as exc:
        raise MalformedForm("the body is not UTF-8 text") from exc
