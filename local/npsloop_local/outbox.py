"""Copy the emails the app sent through SES (moto) into ``.eml`` files a mail client opens.

moto keeps sent mail in ``ses_backends[account][region].sent_messages``: raw messages as their MIME
text (``raw_data``), simple ones as source / subject / body / destinations, for which a MIME
message is built here. Each new message becomes ``<outbox_dir>/NNNNN-<message id>.eml``.
``collect`` is cheap and idempotent; the stack calls it after every invocation. With
``ses_events`` set, each new message sent through a configuration set also gets the SES events
that set's SNS destination would publish (:mod:`.ses_events`).
"""

from __future__ import annotations

import email.policy
import email.utils
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from moto.ses.models import ses_backends

from .ses_events import SesEventPublisher

__all__ = ["Outbox"]

log = logging.getLogger(__name__)

_HTML_MARKERS = ("<html", "<!doctype", "<body", "<p>", "<div", "<table", "<br")


@dataclass
class Outbox:
    """The ``.eml`` files of the emails sent so far by this stack."""

    directory: Path
    account_id: str
    region: str
    now: Callable[[], datetime]
    ses_events: SesEventPublisher | None = None
    _seen: int = 0
    _paths: list[Path] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def prepare(self) -> None:
        """Create the directory and remove the ``.eml`` files a previous run left there."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for old in self.directory.glob("[0-9][0-9][0-9][0-9][0-9]-*.eml"):
            old.unlink()

    @property
    def paths(self) -> list[Path]:
        self.collect()
        with self._lock:
            return list(self._paths)

    def messages(self) -> list[EmailMessage]:
        """The outbox read back as ``email.message.EmailMessage`` objects (modern policy)."""
        return [_parse(path.read_bytes()) for path in self.paths]

    def collect(self) -> list[Path]:
        """Write the messages sent since the last call; return their paths."""
        with self._lock:
            sent = ses_backends[self.account_id][self.region].sent_messages
            new = sent[self._seen :]
            written = []
            for message in new:
                self._seen += 1
                path = self.directory / f"{self._seen:05d}-{_message_id(message)}.eml"
                path.write_bytes(self._mime(message))
                written.append(path)
                log.info("outbox: %s", path)
                if self.ses_events is not None:
                    self.ses_events.publish(message)
            self._paths.extend(written)
            return written

    def _mime(self, message: Any) -> bytes:
        raw = getattr(message, "raw_data", None)
        if raw is not None:
            return raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
        return self._build_simple(message).as_bytes()

    def _build_simple(self, message: Any) -> EmailMessage:
        built = EmailMessage()
        built["Message-ID"] = f"<{_message_id(message)}@email.amazonses.com>"
        built["Date"] = email.utils.format_datetime(self.now())
        built["From"] = message.source
        destinations = getattr(message, "destinations", {}) or {}
        for header, key in (("To", "ToAddresses"), ("Cc", "CcAddresses")):
            if destinations.get(key):
                built[header] = ", ".join(destinations[key])
        built["Subject"] = getattr(message, "subject", None) or getattr(message, "template", "")
        body = getattr(message, "body", None)
        if body is None:  # a templated message: moto keeps the template name and data only
            body = f"Template: {message.template}\nTemplateData: {message.template_data}\n"
        subtype = "html" if any(marker in body[:2000].lower() for marker in _HTML_MARKERS) else "plain"
        built.set_content(body, subtype=subtype)
        return built


def _message_id(message: Any) -> str:
    return str(getattr(message, "id", None) or getattr(message, "ids", ["unknown"])[0])


def _parse(data: bytes) -> EmailMessage:
    parsed = message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed
