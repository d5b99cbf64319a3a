"""The user pool's hosted sign-in over HTTPS: its JWKS (cached) and its token endpoint.

On AWS: ``https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json`` and
``https://<domain>.auth.<region>.amazoncognito.com/oauth2/token``; the local stack serves both on
its own URL (the template's values, rewritten by the local stack). A public client: no secret, the
PKCE verifier proves the code is ours. Not boto3: these are OAuth endpoints, not AWS APIs, and need
no IAM permission.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from npsloop.ports.sign_in import IdentityProvider, SignInUnavailable

JWKS_CACHE_SECONDS = 3600
MIN_REFRESH_SECONDS = 60  # an unknown kid reads the JWKS again at most once a minute
TIMEOUT_SECONDS = 3


class HostedSignIn(IdentityProvider):
    def __init__(
        self,
        *,
        jwks_url: str,
        token_url: str,
        client_id: str,
        monotonic: Callable[[], float] = time.monotonic,
        opener: Callable[..., Any] = urllib.request.urlopen,
    ) -> None:
        self._jwks_url = jwks_url
        self._token_url = token_url
        self._client_id = client_id
        self._monotonic = monotonic
        self._open = opener
        self._keys: dict[str, Mapping[str, Any]] | None = None
        self._read_at = 0.0

    def signing_keys(self, *, refresh: bool = False) -> Mapping[str, Mapping[str, Any]]:
        now = self._monotonic()
        stale = self._keys is None or now - self._read_at >= JWKS_CACHE_SECONDS
        if stale or (refresh and now - self._read_at >= MIN_REFRESH_SECONDS):
            request = urllib.request.Request(self._jwks_url, headers={"Accept": "application/json"})  # noqa: S310 - https from the template
            document = self._call(request)
            keys = document.get("keys") if isinstance(document, dict) else None
            if not isinstance(keys, list):
                raise SignInUnavailable("the issuer's JWKS has no keys")
            self._keys = {str(k.get("kid")): k for k in keys if isinstance(k, dict)}
            self._read_at = now
        assert self._keys is not None
        return self._keys

    def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> Mapping[str, Any]:
        form = urlencode(
            {
                "grant_type": "authorization_code",
                "client_id": self._client_id,
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - https from the template (locally the stack's http)
            self._token_url,
            data=form,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        answer = self._call(request)
        if not isinstance(answer, dict) or not isinstance(answer.get("id_token"), str):
            raise SignInUnavailable("the token endpoint gave no id_token")
        return answer

    def _call(self, request: urllib.request.Request) -> Any:
        try:
            with self._open(request, timeout=TIMEOUT_SECONDS) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as exc:
            try:
                error = json.loads(exc.read()).get("error", "")
            except ValueError:
                error = ""
            raise SignInUnavailable(f"{exc.code} {str(error)[:40]}".strip()) from exc
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise SignInUnavailable(type(exc).__name__) from exc
