"""A browser without a browser: follows redirects by hand, keeps cookies (Secure ones too, as a browser does
for a loopback origin), and signs in through the local hosted sign-in as a persona."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: str
    url: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def set_cookies(self) -> list[str]:
        return [v for k, v in self.headers if k.lower() == "set-cookie"]


@dataclass
class WebClient:
    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, url: str, form: dict[str, str] | None = None) -> Reply:
        url = urljoin(self.base_url + "/", url)
        data = urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        request.add_header("Accept-Language", "en-GB,en;q=0.8")
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            with _OPENER.open(request, timeout=30) as raw:
                reply = Reply(raw.status, list(raw.headers.items()), raw.read().decode(), url)
        except urllib.error.HTTPError as exc:
            reply = Reply(exc.code, list(exc.headers.items()), exc.read().decode(), url)
        for cookie in reply.set_cookies():
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return reply

    def go(self, url: str, form: dict[str, str] | None = None, *, max_hops: int = 10) -> Reply:
        """GET (or POST ``form``), following redirects as a browser does (POST -> GET on 302/303)."""
        reply = self.request("POST" if form is not None else "GET", url, form)
        for _ in range(max_hops):
            if reply.status not in (301, 302, 303, 307):
                return reply
            reply = self.request("GET", urljoin(reply.url, reply.header("Location") or "/"))
        raise AssertionError("too many redirects")

    def sign_in(self, persona: str, start: str = "/auth/sign-in") -> Reply:
        """Through the hosted sign-in as ``persona`` (a key of the login page), back to where ``start`` leads."""
        login = self.go(start)
        assert "/login?" in login.url, login.url
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', login.body))
        hidden = {k: v.replace("&amp;", "&") for k, v in hidden.items()}
        return self.go("/login", {**hidden, "persona": persona})


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def version_of(page: str) -> str:
    match = re.search(r'name="expected_version" value="(\d+)"', page)
    assert match, "no version on the page"
    return match.group(1)
