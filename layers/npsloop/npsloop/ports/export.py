"""Ports of the analytics export: where the objects go and where the pseudonym key comes from."""

from __future__ import annotations

from abc import ABC, abstractmethod


class ExportWriteFailed(Exception):
    """An object could not be stored; the batch must be retried from its first record."""


class ExportSink(ABC):
    @abstractmethod
    def put(self, key: str, body: bytes) -> None:
        """Store (or overwrite) one gzip NDJSON object; raises ExportWriteFailed."""


class PseudonymKeyStore(ABC):
    @abstractmethod
    def pseudonym_key(self) -> bytes:
        """The HMAC key that pseudonymises customer ids (it never goes into the export)."""
