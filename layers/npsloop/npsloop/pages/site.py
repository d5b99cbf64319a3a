"""The one way to serve a page to a signed-in person: ``visitor(event)``, then ``page(...)``.

``visitor`` verifies the session cookie (``npsloop.pages.session``) and builds the caller's
``Scope`` from their groups (config/roles.toml); a request without a valid session raises
``SignInRequired``, which the function's resolver turns into a redirect to
``/auth/sign-in?next=<this page>``. ``page`` renders ``templates/pages/app/<name>.html`` with the
visitor, the brand and the strings of the visitor's language (``?lang=pl|en`` sets it in a cookie;
otherwise the browser's Accept-Language), with the security headers of every page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from npsloop.domain.scope import Scope, scope_of
from npsloop.pages.session import Session, cookie_value
from npsloop.rendering import SUPPORTED_LOCALES, render_page, strings
from npsloop.services.respond import preferred_locale
from npsloop.web import APP_SECURITY_HEADERS

LANG_COOKIE = "npsloop_lang"
ONE_YEAR = 365 * 24 * 3600


class SignInRequired(Exception):
    """No valid session: the browser goes to the sign-in, then back to ``next_path``."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path


@dataclass(frozen=True)
class Visitor:
    session: Session
    scope: Scope
    locale: str
    path: str  # this page, for the language toggle and the return after sign-in
    language_cookie: Cookie | None = None  # the language chosen on this request (?lang=), remembered

    @property
    def reach(self) -> str:
        """The visitor's scope in the page's language (``Scope.describe`` is the English of logs and APIs)."""
        return reach(self.scope, self.locale)


def reach(scope: Scope, locale: str) -> str:
    words = strings(locale)["app"]["reach"]
    if scope.all_stores:
        return str(words["all"])
    parts = [
        f"{words[kind if len(values) == 1 else kind + 's']} {', '.join(sorted(values))}"
        for kind, values in (("region", scope.regions), ("store", scope.stores))
        if values
    ]
    return "; ".join(parts) or str(words["none"])


def locale_of(event: BaseProxyEvent) -> tuple[str, Cookie | None]:
    """The page's language, and the cookie to set when the person chose one with ``?lang=``."""
    chosen = event.get_query_string_value("lang")
    if chosen in SUPPORTED_LOCALES:
        return chosen, Cookie(LANG_COOKIE, chosen, path="/", secure=True, http_only=True, max_age=ONE_YEAR,
                              same_site=SameSite.LAX_MODE)  # fmt: skip
    remembered = cookie_value(getattr(event, "cookies", None) or [], LANG_COOKIE)
    if remembered in SUPPORTED_LOCALES:
        return remembered, None
    return preferred_locale(event.headers.get("accept-language")), None


def this_path(event: BaseProxyEvent) -> str:
    query = {k: v for k, v in (event.query_string_parameters or {}).items() if k != "lang"}
    return event.path + (f"?{urlencode(query)}" if query else "")


def visitor(event: BaseProxyEvent) -> Visitor:
    """The signed-in person of this request; ``SignInRequired`` when there is none."""
    from npsloop.wiring import container, web

    session = web.sign_in().session(getattr(event, "cookies", None) or [])
    path = this_path(event)
    if session is None:
        raise SignInRequired(path)
    locale, chosen = locale_of(event)
    scope = scope_of(session.subject, session.groups, container.roles(), container.routing())
    return Visitor(session=session, scope=scope, locale=locale, path=path, language_cookie=chosen)


def page(status: int, name: str, locale: str, /, *, visitor: Visitor | None = None, event: BaseProxyEvent | None = None,
         **context: Any) -> Response:  # fmt: skip
    """An HTML page of the web app (``templates/pages/app/<name>.html``)."""
    from npsloop.wiring import container

    chosen = visitor.language_cookie if visitor else (locale_of(event)[1] if event is not None else None)
    cookies = [chosen] if chosen else []
    t = strings(locale)
    other = "en" if locale == "pl" else "pl"
    path = visitor.path if visitor else (this_path(event) if event is not None else "/cases")
    toggle = f"{path}{'&' if '?' in path else '?'}lang={other}"
    body = render_page(
        f"app/{name}", locale, a=t["app"], brand=container.brand(), visitor=visitor, toggle=toggle, other=other,
        **context,
    )  # fmt: skip
    headers = {**APP_SECURITY_HEADERS, "Content-Language": locale}
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body, headers=headers,
                    cookies=cookies)  # fmt: skip


def redirect(location: str, cookies: list[Cookie] | None = None) -> Response:
    return Response(status_code=302, headers={"Location": location, "Cache-Control": "no-store"}, cookies=cookies or [])


def sign_in_redirect(next_path: str) -> Response:
    return redirect(f"/auth/sign-in?next={quote(next_path, safe='')}")
