"""The brand on what customers see: company name, logo, colours, privacy link, postal address, sender.

Lives in ``config/brand.toml``, validated on load like the programs: a bad field fails with a message
naming it (``brand.toml: colours.muted: ...``). Colour pairs that put text on a background must reach
the WCAG 2.x AA contrast for normal text (4.5:1), or the file is refused: an email nobody can read in
the sun, or with weak eyes, is not one people trust.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from npsloop.domain.validation_errors import describe

DEFAULT_BRAND_FILE = Path(__file__).resolve().parent.parent / "config" / "brand.toml"
AA_NORMAL_TEXT = 4.5  # WCAG 2.x success criterion 1.4.3, text below 18pt (or 14pt bold)

HexColour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="#rrggbb")]
HttpsUrl = Annotated[str, Field(pattern=r"^https://[^\s\"'<>]+$", max_length=500)]


class BrandConfigError(ValueError):
    """The brand file is invalid; the message names each offending field."""


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of ``#rrggbb``."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.x contrast ratio, from 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Colours(_Config):
    """``text``, ``muted`` (small print) and ``accent`` (links) sit on ``card``; the footer's ``muted``
    sits on ``page``; ``button_text`` sits on ``button``."""

    text: HexColour = "#1f2933"
    muted: HexColour = "#4a5562"
    accent: HexColour = "#1d4ed8"
    card: HexColour = "#ffffff"
    page: HexColour = "#f1f3f5"
    button: HexColour = "#1f3a5f"
    button_text: HexColour = "#ffffff"
    highlight: HexColour = "#fff3b0"  # behind a keyword in an alert, under ``text``

    def pairs(self) -> list[tuple[str, str]]:
        """(foreground, background) field names of every text-on-background pair the emails use."""
        return [
            ("text", "card"),
            ("muted", "card"),
            ("accent", "card"),
            ("text", "page"),
            ("muted", "page"),
            ("button_text", "button"),
            ("text", "highlight"),
        ]

    @model_validator(mode="after")
    def _readable(self) -> Colours:
        weak = []
        for fg, bg in self.pairs():
            ratio = contrast_ratio(getattr(self, fg), getattr(self, bg))
            if ratio < AA_NORMAL_TEXT:
                weak.append(f"{fg} {getattr(self, fg)} on {bg} {getattr(self, bg)} is {ratio:.2f}:1")
        if weak:
            raise ValueError(f"contrast below WCAG AA {AA_NORMAL_TEXT}:1: " + "; ".join(weak))
        return self


class SenderNames(_Config):
    pl: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\r\n<>\"]+$")]
    en: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\r\n<>\"]+$")]

    def get(self, locale: str) -> str:
        return str(getattr(self, locale, self.en))


class Brand(_Config):
    schema_version: Literal[1]
    company: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[^\r\n{}<>]+$")]
    logo_url: HttpsUrl | None = None  # a hosted image; the emails read well with images off
    logo_width: Annotated[int, Field(ge=16, le=300)] = 120
    logo_height: Annotated[int, Field(ge=16, le=120)] = 32
    privacy_url: HttpsUrl
    postal_address: Annotated[str, Field(min_length=5, max_length=200, pattern=r"^[^\r\n<>]+$")]
    sender_name: SenderNames
    colours: Colours = Colours()


def parse_brand(raw: dict[str, Any], origin: str = "brand") -> Brand:
    try:
        return Brand.model_validate(raw)
    except ValidationError as exc:
        raise BrandConfigError(f"{origin}: " + "; ".join(describe(exc.errors()))) from exc


def load_brand(path: Path = DEFAULT_BRAND_FILE) -> Brand:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BrandConfigError(f"{path.name}: not valid TOML: {exc}") from exc
    return parse_brand(raw, origin=path.name)
