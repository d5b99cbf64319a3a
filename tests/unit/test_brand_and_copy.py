"""The brand file is validated (contrast included), texts name the company, and the Polish copy has no
bare name in the greeting and no gendered forms."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from npsloop.domain.brand import DEFAULT_BRAND_FILE, BrandConfigError, contrast_ratio, load_brand, parse_brand
from npsloop.domain.programs import DEFAULT_PROGRAMS_FILE, ProgramConfigError, load_programs, parse_programs
from npsloop.rendering import render_invitation

PACKAGE = Path(DEFAULT_BRAND_FILE).resolve().parents[1]


def brand_raw() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_BRAND_FILE.read_text(encoding="utf-8"))


def test_the_contrast_ratio_is_the_wcag_formula():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#1d4ed8", "#1d4ed8") == pytest.approx(1)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss


def test_the_shipped_brand_loads():
    brand = load_brand()
    assert (brand.company, brand.sender_name.get("pl")) == ("Acme", "Acme – opinie klientów")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colours": {"muted": "#9aa5b1"}}, r"colours: .*muted #9aa5b1 on card #ffffff is 2\.\d\d:1"),
        ({"colours": {"button": "#60a5fa"}}, r"button_text #ffffff on button #60a5fa"),
        ({"colours": {"text": "blue"}}, r"colours\.text: String should match pattern"),
        ({"postal_address": None}, r"postal_address: Field required"),
        ({"privacy_url": "http://example.com/privacy"}, r"privacy_url: String should match pattern"),
        ({"sender_name": {"pl": "Acme\r\nBcc: x@example.com", "en": "Acme"}}, r"sender_name\.pl"),
    ],
)
def test_a_bad_brand_is_refused_naming_the_field(change, message):
    raw = brand_raw()
    for key, value in change.items():
        if value is None:
            raw.pop(key)
        elif isinstance(value, dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value

    with pytest.raises(BrandConfigError, match=message):
        parse_brand(raw, origin="brand.toml")


def test_a_program_text_with_an_unknown_placeholder_is_refused_naming_the_field():
    raw = tomllib.loads(DEFAULT_PROGRAMS_FILE.read_text(encoding="utf-8"))
    raw["program"][0]["subject"]["pl"] = "Jak było, {first_name}?"

    with pytest.raises(ProgramConfigError, match=r"program\[0\]\.subject\.pl: .*unknown placeholder"):
        parse_programs(raw)


def test_every_program_names_the_company_and_has_its_own_intro():
    programs = load_programs().program
    for program in programs:
        for locale in ("pl", "en"):
            assert "Acme" in program.subject.get(locale, "Acme"), (program.id, locale)
            assert "Acme" in program.question.get(locale, "Acme"), (program.id, locale)
    for locale in ("pl", "en"):
        intros = [program.intro.get(locale, "Acme") for program in programs if program.intro]
        assert len(intros) == len(programs)
        assert len(set(intros)) == len(intros)  # an order, a ticket and a visit are thanked differently


def polish_strings() -> list[str]:
    """Every Polish string a customer or colleague can read: i18n, programs, brand, templates."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tomllib.loads((PACKAGE / "i18n" / "pl.toml").read_text(encoding="utf-8")))
    for program in tomllib.loads(DEFAULT_PROGRAMS_FILE.read_text(encoding="utf-8"))["program"]:
        walk([value["pl"] for value in program.values() if isinstance(value, dict) and "pl" in value])
    walk(brand_raw()["sender_name"]["pl"])
    for template in sorted((PACKAGE / "templates").rglob("*.*")):
        found.append(template.read_text(encoding="utf-8"))
    return found


# 2nd person singular past (zgodziłeś, zgodziłaś, poleciłeś) and adjectives that mark the reader's
# gender (zadowolony/-a, pewien/pewna); "Pan/Pani" is stiff and doubles every sentence.
GENDERED = re.compile(r"\w+ł[ae]ś\b|\b(?:nie)?zadowolon[ya]\b|\bpewien\b|\bPan(?:i)?\b", re.IGNORECASE)


def test_no_polish_string_marks_the_readers_gender():
    strings = polish_strings()
    assert len(strings) > 60
    offending = [match.group(0) for text in strings for match in GENDERED.finditer(text)]
    assert offending == []


def test_the_polish_greeting_does_not_put_the_name_in_the_nominative():
    rendered = render_invitation(
        template_id="survey-invitation",
        template_version=1,
        locale="pl",
        survey_type=load_programs().program[0].survey,
        first_name="Anna",
        subject="s",
        question="q",
        intro=None,
        respond_url="https://s.example.com/r/t",
        unsubscribe_url="https://s.example.com/u/t",
        expires_at=datetime(2026, 12, 31, tzinfo=UTC),
        time_zone="Europe/Warsaw",
        brand=load_brand(),
    )

    assert "Dzień dobry," in rendered.text
    assert "Anna" not in rendered.text
    assert "Anna" not in rendered.html
