"""Deployment settings: read from the function's environment once per cold start, validated."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str = Field(min_length=1)
    table_name: str = Field(min_length=3)
    link_secret_id: str = Field(min_length=1)
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    sender_address: str | None = None
    sender_name: str | None = None
    configuration_set: str | None = None
    parking_queue_url: str | None = None

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        names = (*cls.model_fields,)
        return cls.model_validate({name: env[name.upper()] for name in names if env.get(name.upper())})
