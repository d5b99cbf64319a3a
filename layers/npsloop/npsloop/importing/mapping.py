"""The import mapping: which source field is what in npsloop. A small TOML file, validated on load.

``delighted.toml`` beside this module is the default; pass ``--mapping`` to use another (README
"Importing history" documents every key).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from npsloop.domain.programs import ProgramCatalogue
from npsloop.domain.surveys import SurveyType

DEFAULT_MAPPING = Path(__file__).with_name("delighted.toml")


class InvalidMapping(ValueError):
    """The mapping file is unreadable or names something npsloop does not have."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CustomerFields(_Strict):
    # The property (Delighted person_properties key, or CSV column) holding the customer id your
    # business events use; without it a Delighted response's customer is "delighted:<person id>".
    id: str = "Customer ID"
    locale: str = "Locale"
    vip: str = ""  # a property whose value true/yes/1 marks a VIP; empty: nobody is
    default_locale: str = "en"


class CsvColumns(_Strict):
    """Columns of a CSV of responses (Delighted's download, or any other tool's)."""

    id: str = "Response ID"  # empty: the row's content hashed (re-importing the same file still duplicates nothing)
    score: str = "Score"
    timestamp: str = "Response Timestamp"  # ISO 8601 or unix seconds
    comment: str = "Comment"
    survey_type: str = ""  # empty: every row is default_survey_type
    default_survey_type: str = "nps"
    customer_id: str = "Customer ID"  # empty or blank in a row: the hash of the email column
    email: str = "Email"  # read only to derive a pseudonymous customer id; never stored
    tags: str = "Tags"  # comma-separated
    notes: str = "Notes"
    time_zone: str = "UTC"  # for timestamps without an offset


class ImportMapping(_Strict):
    source: str = Field(default="delighted", pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    # Source survey type -> npsloop program (its survey type must match).
    programs: dict[str, str] = {}
    # npsloop context key -> source property (person_properties key, or CSV column).
    context: dict[str, str] = {}
    customer: CustomerFields = CustomerFields()
    csv: CsvColumns = CsvColumns()

    @model_validator(mode="after")
    def _some_program(self) -> ImportMapping:
        if not self.programs:
            raise ValueError("programs: map at least one source survey type to a program")
        return self

    def check_against(self, catalogue: ProgramCatalogue) -> dict[str, tuple[str, SurveyType]]:
        """Source survey type -> (program id, its survey type); raises when a program is unknown."""
        resolved: dict[str, tuple[str, SurveyType]] = {}
        for survey_type, program_id in self.programs.items():
            program = catalogue.get(program_id)
            if program is None:
                raise InvalidMapping(f"programs.{survey_type}: no program {program_id!r} in programs.toml")
            resolved[survey_type] = (program_id, program.survey)
        return resolved


def load_mapping(path: Path | None = None) -> ImportMapping:
    target = path or DEFAULT_MAPPING
    try:
        return ImportMapping.model_validate(tomllib.loads(target.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidMapping(f"{target}: {exc}") from exc
    except ValueError as exc:
        raise InvalidMapping(f"{target}: {exc}") from exc
