"""Survey programs: which business events trigger which survey, on which channel, with which template.

Programs live in a versioned TOML file, validated on load. A bad file fails with a message that
names the offending field, e.g. ``program[2].sampling_rate: Input should be less than or equal to 1``.
"""

from __future__ import annotations

import hashlib
import string
import tomllib
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from npsloop.domain.events import EVENT_MODELS
from npsloop.domain.surveys import SurveyType
from npsloop.domain.types import Slug
from npsloop.domain.validation_errors import describe

DEFAULT_PROGRAMS_FILE = Path(__file__).resolve().parent.parent / "config" / "programs.toml"


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Operator(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    GTE = "gte"
    LTE = "lte"
    EXISTS = "exists"


Scalar = str | int | float | bool


class Condition(_Config):
    """A test on one field of the event detail, addressed by a dotted path ("context.channel")."""

    field: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")]
    op: Operator
    value: Scalar | list[Scalar] | None = None

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Condition:
        if self.op in (Operator.IN, Operator.NOT_IN) and not isinstance(self.value, list):
            raise ValueError(f"operator {self.op.value!r} needs a list value")
        if self.op in (Operator.GTE, Operator.LTE) and not isinstance(self.value, int | float):
            raise ValueError(f"operator {self.op.value!r} needs a number")
        if self.op is Operator.EXISTS and not isinstance(self.value, bool):
            raise ValueError("operator 'exists' needs true or false")
        return self

    def holds(self, detail: dict[str, Any]) -> bool:
        present, actual = _lookup(detail, self.field)
        match self.op:
            case Operator.EXISTS:
                return present == self.value
            case Operator.EQ:
                return present and actual == self.value
            case Operator.NE:
                return not present or actual != self.value
            case Operator.IN:
                return present and actual in self.value  # type: ignore[operator]
            case Operator.NOT_IN:
                return not present or actual not in self.value  # type: ignore[operator]
            case Operator.GTE:
                return present and _number(actual) is not None and _number(actual) >= self.value  # type: ignore[operator]
            case Operator.LTE:
                return present and _number(actual) is not None and _number(actual) <= self.value  # type: ignore[operator]
        return False  # pragma: no cover - exhaustive


def _lookup(detail: dict[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = detail
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _number(value: Any) -> float | None:
    try:
        return float(Decimal(str(value)))
    except (ArithmeticError, ValueError):
        return None


class Trigger(_Config):
    source: Annotated[str, Field(min_length=1, max_length=256)]
    detail_type: str
    conditions: tuple[Condition, ...] = ()

    @model_validator(mode="after")
    def _known_detail_type(self) -> Trigger:
        if self.detail_type not in EVENT_MODELS:
            raise ValueError(f"unknown detail_type {self.detail_type!r}; known: {sorted(EVENT_MODELS)}")
        return self

    def matches(self, source: str, detail_type: str, detail: dict[str, Any]) -> bool:
        return (
            source == self.source
            and detail_type == self.detail_type
            and all(condition.holds(detail) for condition in self.conditions)
        )


PLACEHOLDERS = frozenset({"company"})


def _known_placeholders(text: str) -> str:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:  # a lone "{" or "}"
        raise ValueError(f"{exc}; write {{{{ or }}}} for a literal brace") from exc
    unknown = sorted(names - PLACEHOLDERS)
    if unknown:
        raise ValueError(f"unknown placeholder(s) {unknown}; known: {sorted(PLACEHOLDERS)}")
    return text


LocalText = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_known_placeholders)]


class Localised(_Config):
    """A text in every supported language; ``{company}`` stands for the brand's company name."""

    pl: LocalText
    en: LocalText

    def get(self, locale: str, company: str) -> str:
        return str(getattr(self, locale, self.en)).format(company=company)


class TemplateRef(_Config):
    id: Slug
    version: Annotated[int, Field(ge=1)]


DEFAULT_DIMENSIONS = ("store", "region", "channel")
MAX_DIMENSIONS = 8  # every dimension is one more aggregate key per response: it bounds the writes per batch

Dimension = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
"""A context key the scores are broken down by (``store``, ``region``, ``channel``, ``device``...)."""


class SurveyProgram(_Config):
    id: Slug
    version: Annotated[int, Field(ge=1)]
    name: Annotated[str, Field(min_length=1, max_length=120)]  # for operators (logs, config); people see ``label``
    label: Localised  # the program's name on pages, reports and emails, in each language (no placeholders)
    enabled: bool = True
    trigger: Trigger
    survey: SurveyType
    question: Localised
    intro: Localised | None = None  # what the email thanks for (an order, a ticket, a visit); else a generic line
    open_question: Localised | None = None
    channel: Literal["email"] = "email"
    template: TemplateRef
    subject: Localised
    recontact_days: Annotated[int, Field(ge=0, le=3650)]
    sampling_rate: Annotated[float, Field(ge=0, le=1)] = 1.0
    link_ttl_days: Annotated[int, Field(ge=1, le=90)] = 30
    dimensions: Annotated[tuple[Dimension, ...], Field(max_length=MAX_DIMENSIONS)] = DEFAULT_DIMENSIONS

    @model_validator(mode="after")
    def _plain_label(self) -> SurveyProgram:
        if "{" in self.label.pl + self.label.en:
            raise ValueError("label: a program's name takes no placeholders")
        return self

    def title(self, locale: str) -> str:
        """The program's name in ``locale`` (English for a language it has not)."""
        return str(getattr(self.label, locale, self.label.en))

    @model_validator(mode="after")
    def _distinct_dimensions(self) -> SurveyProgram:
        if "all" in self.dimensions:
            raise ValueError("dimensions: 'all' is the overall score, not a context key")
        if len(set(self.dimensions)) != len(self.dimensions):
            raise ValueError(f"dimensions: each may appear once, got {list(self.dimensions)}")
        return self

    def samples_in(self, business_key: str) -> bool:
        """Deterministic sampling: the same business key always gets the same answer."""
        if self.sampling_rate >= 1:
            return True
        digest = hashlib.sha256(f"{self.id}\x1f{business_key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.sampling_rate


class StatisticsSettings(_Config):
    """How scores are judged (``[statistics]`` in programs.toml)."""

    # The fewest answers a score needs to be ranked or tested for a change; the score API's
    # ``min_sample`` may raise it, never lower it.
    minimum_sample: Annotated[int, Field(ge=10, le=100_000)] = 30
    # The false-discovery rate Benjamini-Hochberg holds across many changes judged at once.
    false_discovery_rate: Annotated[float, Field(gt=0, le=0.2)] = 0.05


class ProgramCatalogue(_Config):
    schema_version: Literal[1]
    program: Annotated[tuple[SurveyProgram, ...], Field(min_length=1)]
    statistics: StatisticsSettings = StatisticsSettings()

    @model_validator(mode="after")
    def _unique_ids(self) -> ProgramCatalogue:
        seen: set[str] = set()
        for item in self.program:
            if item.id in seen:
                raise ValueError(f"duplicate program id {item.id!r}")
            seen.add(item.id)
        return self

    def for_event(self, source: str, detail_type: str, detail: dict[str, Any]) -> list[SurveyProgram]:
        return [p for p in self.program if p.enabled and p.trigger.matches(source, detail_type, detail)]

    def get(self, program_id: str) -> SurveyProgram | None:
        return next((p for p in self.program if p.id == program_id), None)

    def detail_types(self) -> set[str]:
        return {p.trigger.detail_type for p in self.program}


class ProgramConfigError(ValueError):
    """The programs file is invalid; the message names each offending field."""


def load_programs(path: Path = DEFAULT_PROGRAMS_FILE) -> ProgramCatalogue:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProgramConfigError(f"{path.name}: not valid TOML: {exc}") from exc
    return parse_programs(raw, origin=path.name)


def parse_programs(raw: dict[str, Any], origin: str = "programs") -> ProgramCatalogue:
    try:
        return ProgramCatalogue.model_validate(raw)
    except ValidationError as exc:
        raise ProgramConfigError(f"{origin}: " + "; ".join(describe(exc.errors()))) from exc
