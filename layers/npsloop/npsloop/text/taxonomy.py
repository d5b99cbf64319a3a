"""The theme taxonomy (config/themes.toml): ids, what each covers, and its version.

Validated on load like the other config files: a bad file raises `TaxonomyError` naming each field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from npsloop.domain.alerts import CONFIG_DIR
from npsloop.domain.validation_errors import describe

DEFAULT_THEMES_FILE = CONFIG_DIR / "themes.toml"
MAX_THEMES = 3

ThemeId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]


class TaxonomyError(ValueError):
    """themes.toml is invalid; the message names each offending field."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Theme(_Config):
    id: ThemeId
    covers: Annotated[str, StringConstraints(min_length=3, max_length=300)]


class Taxonomy(_Config):
    schema_version: Literal[1]
    version: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")]
    theme: Annotated[tuple[Theme, ...], Field(min_length=1, max_length=40)]

    @model_validator(mode="after")
    def _distinct(self) -> Taxonomy:
        ids = [t.id for t in self.theme]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate theme ids {duplicates}")
        return self

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.theme)


def parse_taxonomy(raw: dict[str, Any], origin: str = "themes") -> Taxonomy:
    try:
        return Taxonomy.model_validate(raw)
    except ValidationError as exc:
        raise TaxonomyError(f"{origin}: " + "; ".join(describe(exc.errors()))) from exc


def load_taxonomy(path: Path = DEFAULT_THEMES_FILE) -> Taxonomy:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{path.name}: not valid TOML: {exc}") from exc
    return parse_taxonomy(raw, origin=path.name)
