"""Pausing a configuration set's sending, emulated: what moto leaves out of SES.

moto 5 stores a configuration set's ``SendingOptions`` but has no SESv2
``PutConfigurationSetSendingOptions``, reports ``SendingEnabled`` from a nested dict (so boto3 reads
``False`` for a set that sends), and sends through a paused set anyway. ``install`` (once per
process, like :func:`.ses_events.install_recorder`; the behaviour is AWS's, so it is never undone):

1. adds ``PutConfigurationSetSendingOptions`` (``PUT /v2/email/configuration-sets/{name}/sending``)
   to moto's SESv2; an unknown set answers ``NotFoundException`` as SESv2 does;
2. makes ``GetConfigurationSet`` report ``SendingOptions.SendingEnabled`` as the boolean it is;
3. refuses a send through a paused set with the error SES gives: SESv2 ``SendEmail`` answers
   ``SendingPausedException`` (HTTP 400), SES v1 ``SendEmail`` / ``SendRawEmail`` answer
   ``ConfigurationSetSendingPausedException``. Nothing is stored, so nothing reaches the outbox or
   the configuration set's event destinations.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.ses.exceptions import ConfigurationSetDoesNotExist, SesError
from moto.ses.models import ConfigurationSet
from moto.ses.responses import EmailResponse
from moto.sesv2.responses import SESV2Response

__all__ = ["SENDING_PAUSED_V1", "SENDING_PAUSED_V2", "install", "sending_enabled"]

SENDING_PAUSED_V2 = "SendingPausedException"
SENDING_PAUSED_V1 = "ConfigurationSetSendingPausedException"

_install_lock = threading.Lock()
_installed = False


class _SendingPausedV1(SesError):
    code = SENDING_PAUSED_V1


def sending_enabled(config_set: ConfigurationSet) -> bool:
    """Whether a moto configuration set sends (moto keeps ``SendingOptions`` as given, or ``{}``)."""
    options = config_set.enabled
    if isinstance(options, dict):
        return bool(options.get("SendingEnabled", True))
    return bool(options)


def install() -> None:
    """Apply the SES sending-pause emulation (idempotent)."""
    global _installed  # noqa: PLW0603
    with _install_lock:
        if _installed:
            return
        SESV2Response.put_configuration_set_sending_options = _put_sending_options  # type: ignore[attr-defined]
        ConfigurationSet.to_dict_v2 = _boolean_sending_options(ConfigurationSet.to_dict_v2)  # type: ignore[method-assign]
        SESV2Response.send_email = _refused_when_paused_v2(SESV2Response.send_email)  # type: ignore[method-assign]
        EmailResponse.send_email = _refused_when_paused_v1(EmailResponse.send_email)  # type: ignore[method-assign]
        EmailResponse.send_raw_email = _refused_when_paused_v1(EmailResponse.send_raw_email)  # type: ignore[method-assign]
        _installed = True


def _put_sending_options(self: SESV2Response) -> str:
    name = self._get_param("ConfigurationSetName")
    params = json.loads(self.body or "{}")
    try:
        config_set = self.sesv2_backend.core_backend.describe_configuration_set(name)
    except ConfigurationSetDoesNotExist as exc:
        not_found = JsonRESTError("NotFoundException", f"Configuration set <{name}> does not exist.")
        not_found.code = 404
        raise not_found from exc
    config_set.enabled = {"SendingEnabled": bool(params.get("SendingEnabled", False))}
    return "{}"


def _boolean_sending_options(to_dict_v2: Callable[[ConfigurationSet], dict[str, Any]]) -> Callable[..., Any]:
    @functools.wraps(to_dict_v2)
    def boolean(self: ConfigurationSet) -> dict[str, Any]:
        described = to_dict_v2(self)
        described["SendingOptions"] = {"SendingEnabled": sending_enabled(self)}
        return described

    return boolean


def _paused(backend: Any, name: str | None) -> bool:
    if not name:
        return False
    try:
        return not sending_enabled(backend.describe_configuration_set(name))
    except ConfigurationSetDoesNotExist:
        return False  # moto's own answer to an unknown set is left as it is


def _refused_when_paused_v2(send_email: Callable[[SESV2Response], str]) -> Callable[[SESV2Response], str]:
    @functools.wraps(send_email)
    def refusing(self: SESV2Response) -> str:
        try:
            name = json.loads(self.body or "{}").get("ConfigurationSetName")
        except ValueError:
            name = None
        if _paused(self.sesv2_backend.core_backend, name):
            raise JsonRESTError(SENDING_PAUSED_V2, f"Sending is paused for configuration set {name}.")
        return send_email(self)

    return refusing


def _refused_when_paused_v1(send: Callable[[EmailResponse], Any]) -> Callable[[EmailResponse], Any]:
    @functools.wraps(send)
    def refusing(self: EmailResponse) -> Any:
        name = self._get_param("ConfigurationSetName")
        if _paused(self.backend, name):
            raise _SendingPausedV1(f"Sending is paused for configuration set {name}.")
        return send(self)

    return refusing
