"""Deployment settings: read from the function's environment once per cold start, validated.

One model for every function: each function's environment (template.yaml) sets the variables
it needs, and each composition root (``npsloop.wiring.<function>``) checks that the
ones its service needs are present.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator


class MissingSetting(RuntimeError):
    """A function was deployed without a variable its service needs."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str = Field(min_length=1)
    table_name: str = Field(min_length=3)
    link_secret_id: str = Field(min_length=1)
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    sender_address: str | None = None
    sender_name: str | None = None
    configuration_set: str | None = None
    parking_queue_url: str | None = None  # invite's dead-letter queue
    delivery_dlq_url: str | None = None
    score_dlq_url: str | None = None
    analyse_dlq_url: str | None = None
    alert_dlq_url: str | None = None
    export_dlq_url: str | None = None
    parking_bucket: str | None = None  # bodies too large for a dead-letter queue
    event_bus_name: str | None = None
    alerts_topic_arn: str | None = None
    export_bucket: str | None = None
    pseudonym_secret_id: str | None = None
    pause_on_alarms: str | None = None  # the guard's alarm names, comma-separated
    # The web app's sign-in (the user pool's hosted sign-in; locally the stack's own URL).
    jwt_issuer: str | None = None
    app_client_id: str | None = None
    hosted_ui_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+$")
    jwks_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    dashboard_refresh_seconds: int = Field(default=30, ge=1, le=60)  # how often an open dashboard polls
    # Scheduled reports: the planner's directory and queue, the worker's send rate and dead-letter queue.
    user_pool_id: str | None = None
    report_queue_url: str | None = None
    report_dlq_url: str | None = None
    report_send_rate: float = Field(default=5.0, gt=0, le=1000)  # emails a second, per worker environment

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        names = (*cls.model_fields,)
        return cls.model_validate({name: env[name.upper()] for name in names if env.get(name.upper())})

    def require(self, *names: str) -> tuple[str, ...]:
        """The named settings' values; raises MissingSetting naming every one that is absent."""
        missing = [name.upper() for name in names if not getattr(self, name)]
        if missing:
            raise MissingSetting(f"this function needs {', '.join(missing)} in its environment")
        return tuple(str(getattr(self, name)) for name in names)
