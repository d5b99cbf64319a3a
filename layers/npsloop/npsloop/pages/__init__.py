"""The web app's pages for signed-in people: sign-in, the session, and the case pages.

One way to serve a signed-in page (``npsloop.pages.session.signed_in``): the route asks for the
session, which verifies the session cookie's ID token itself (signature against the issuer's
JWKS, issuer, audience, ``token_use`` and expiry on the injected clock), and a request without a
valid one is sent to ``/auth/sign-in?next=<the page>``. The page then asks the caller's ``Scope``.
"""
