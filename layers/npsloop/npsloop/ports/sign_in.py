"""Port of the web app's sign-in: the identity provider's hosted sign-in (Cognito's, or the local stack's)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any


class SignInUnavailable(Exception):
    """The identity provider did not answer, or refused the exchange; the message says which (no secrets)."""


class IdentityProvider(ABC):
    @abstractmethod
    def signing_keys(self, *, refresh: bool = False) -> Mapping[str, Mapping[str, Any]]:
        """The issuer's JWKS by ``kid`` (cached; ``refresh`` reads it again, for a key rotated in)."""

    @abstractmethod
    def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> Mapping[str, Any]:
        """The token endpoint's answer to an authorisation code with its PKCE verifier (``id_token`` ...)."""
