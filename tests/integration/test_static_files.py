"""The web app's static files: served by the stack from the package, by exact name only."""

from __future__ import annotations

from tests.web_client import WebClient


def test_a_shipped_script_is_served_with_its_type_and_anything_else_is_a_404(stack):
    browser = WebClient(stack.base_url)

    script = browser.request("GET", "/static/app.js")
    assert script.status == 200
    assert script.header("Content-Type").startswith("text/javascript")
    assert script.header("Cache-Control") == "public, max-age=3600"
    assert "npsloop" in script.body

    for name in ("nope.js", "..%2Fweb.py", "__init__.py", "%2E%2E%2Fconfig%2Froles.toml"):
        assert browser.request("GET", f"/static/{name}").status == 404, name


def test_the_staff_pages_may_run_only_the_stacks_own_scripts(stack):
    page = WebClient(stack.base_url).request("GET", "/auth/signed-out")
    policy = page.header("Content-Security-Policy")
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert '<script src="/static/app.js" defer></script>' in page.body
