"""Alert rules and routing: which responses alert whom, and which open a follow-up case.

Both live in TOML files validated on load (``config/alerts.toml``, ``config/routing.toml``). A bad
file fails with a message that names the offending field, e.g.
``alerts.toml: detractor.thresholds.nps: Input should be less than or equal to 10``.

The rules are pure functions of a response (and, for the cluster rule, of how many detractors the
store had in the window, which the alert service counts). At most one alert per response and rule
is the service's job (a claim per rule); here a rule only says whether it fires.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from npsloop.domain.digests import IMMEDIATE, Delivery, DigestSchedule
from npsloop.domain.responses import Response
from npsloop.domain.surveys import SurveyType
from npsloop.domain.types import EmailAddress, Label, Slug, TimeZoneName
from npsloop.domain.validation_errors import describe
from npsloop.domain.working_time import WorkingCalendar

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULT_ALERTS_FILE = CONFIG_DIR / "alerts.toml"
DEFAULT_ROUTING_FILE = CONFIG_DIR / "routing.toml"
DEFAULT_CALENDAR = "default"
Language = Literal["pl", "en"]  # the languages of the email templates (npsloop/i18n)

# The lowest promoter (or "satisfied", "easy") answer per survey type; below it a VIP alerts.
PROMOTER_FLOOR: dict[SurveyType, int] = {SurveyType.NPS: 9, SurveyType.CSAT: 4, SurveyType.CES: 5}


class AlertConfigError(ValueError):
    """The alert rules or the routing file is invalid; the message names each offending field."""


class Severity(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {Severity.HIGH: 3, Severity.NORMAL: 2, Severity.LOW: 1}[self]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Rule(_Config):
    id: Slug
    severity: Severity
    opens_case: bool
    enabled: bool = True


class Thresholds(_Config):
    """The highest score that counts as a detractor, per survey type."""

    nps: Annotated[int, Field(ge=0, le=10)] = 6
    csat: Annotated[int, Field(ge=1, le=5)] = 2
    ces: Annotated[int, Field(ge=1, le=7)] = 3

    def of(self, survey_type: SurveyType) -> int:
        return int(getattr(self, survey_type.value))


class DetractorRule(_Rule):
    thresholds: Thresholds = Thresholds()

    def fires(self, response: Response) -> bool:
        return response.score <= self.thresholds.of(response.survey_type)


def fold(text: str) -> str:
    """Lower-case without diacritics ("Rezygnuję" -> "rezygnuje", "Łódź" -> "lodz") for matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("ł", "l"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def keyword_spans(comment: str, keywords: tuple[str, ...]) -> list[tuple[str, bool]]:
    """The comment as written, cut into (text, is a keyword) parts: found case- and diacritics-
    insensitively (``keywords`` are the folded words ``KeywordRule.matches`` found), returned in the
    original spelling ("Rezygnuję" stays "Rezygnuję")."""
    if not keywords:
        return [(comment, False)] if comment else []
    folded: list[str] = []
    origin: list[int] = []  # the index in ``comment`` of each folded character
    for index, char in enumerate(comment):
        for piece in fold(char):
            folded.append(piece)
            origin.append(index)
    words = sorted({k for k in keywords if k.strip()}, key=len, reverse=True)
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(r"\s+".join(re.escape(p) for p in w.split()) for w in words) + r")(?!\w)"
    )
    parts: list[tuple[str, bool]] = []
    cursor = 0
    for found in pattern.finditer("".join(folded)):
        start, end = origin[found.start()], origin[found.end() - 1] + 1
        if start > cursor:
            parts.append((comment[cursor:start], False))
        parts.append((comment[start:end], True))
        cursor = end
    if cursor < len(comment):
        parts.append((comment[cursor:], False))
    return parts


Keyword = Annotated[str, Field(min_length=2, max_length=60)]


class KeywordRule(_Rule):
    """Words or phrases in the comment; a trailing ``*`` matches any ending ("rezygn*")."""

    pl: tuple[Keyword, ...] = ()
    en: tuple[Keyword, ...] = ()

    @model_validator(mode="after")
    def _some_keywords(self) -> KeywordRule:
        if not self.pl and not self.en:
            raise ValueError("needs at least one keyword in pl or en")
        for word in (*self.pl, *self.en):
            if not re.fullmatch(r"[^\W_]+([ '-][^\W_]+)*\*?", word.strip()):
                raise ValueError(f"keyword {word!r} must be letters or digits (a phrase may use spaces, - and ')")
        return self

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        parts = []
        for word in sorted({fold(w.strip()) for w in (*self.pl, *self.en)}, key=len, reverse=True):
            stem, prefix = (word[:-1], True) if word.endswith("*") else (word, False)
            parts.append(r"\s+".join(re.escape(piece) for piece in stem.split()) + (r"\w*" if prefix else ""))
        return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")

    def matches(self, comment: str | None) -> list[str]:
        """The (folded) keywords found in the comment, for the alert; empty when none."""
        if not comment:
            return []
        return sorted({" ".join(found.split()) for found in self._pattern.findall(fold(comment))})

    def fires(self, response: Response) -> bool:
        return bool(self.matches(response.comment))


class VipRule(_Rule):
    def fires(self, response: Response) -> bool:
        return response.vip and response.score < PROMOTER_FLOOR[response.survey_type]


Sentiment = Literal["positive", "negative", "neutral", "mixed"]


class ThemeRule(_Rule):
    """A comment whose analysis (issue 12) names one of ``themes`` with one of ``sentiments``: e.g. a negative
    staff comment at any store, to the store's manager. Fires once per response, when the analysis arrives
    (a MODIFY after the analyse function); the response's other rules are not fired again by it."""

    themes: Annotated[tuple[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")], ...], Field(min_length=1)]
    sentiments: Annotated[tuple[Sentiment, ...], Field(min_length=1)] = ("negative", "mixed")

    def matches(self, response: Response) -> tuple[str, ...]:
        """The rule's themes the comment's current analysis names (empty: it does not fire)."""
        analysis = response.current_analysis
        if analysis is None or analysis.sentiment not in self.sentiments:
            return ()
        return tuple(t for t in analysis.themes if t in self.themes)


class ClusterRule(_Rule):
    """``detractors`` detractors within ``within_hours`` at the same store (the response included)."""

    detractors: Annotated[int, Field(ge=2, le=1000)] = 3
    within_hours: Annotated[int, Field(ge=1, le=24 * 31)] = 24


class TrendRule(_Rule):
    """A statistically real drop of a segment's score (``npsloop.domain.trends``): the last
    ``recent_days`` against the ``baseline_days`` before them, per store, region and channel."""

    recent_days: Annotated[int, Field(ge=1, le=92)] = 14
    baseline_days: Annotated[int, Field(ge=7, le=366)] = 56
    dimensions: Annotated[tuple[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], ...], Field(min_length=1)] = (
        "store",
        "region",
        "channel",
    )
    # A drop must be at least this large (NPS points, CSAT points, CES scale points) as well as
    # significant: at thousands of answers a 1-point drop is "significant" and not worth an alert.
    min_drop: Annotated[float, Field(gt=0, le=200)] = 10
    # Benjamini-Hochberg across every segment of one scan.
    false_discovery_rate: Annotated[float, Field(gt=0, le=0.2)] = 0.05


RootCause = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class CaseSettings(_Config):
    root_causes: Annotated[tuple[RootCause, ...], Field(min_length=1)]

    @field_validator("root_causes")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("root cause codes must be unique")
        return value


class AlertRules(_Config):
    schema_version: Literal[1]
    detractor: DetractorRule
    keywords: KeywordRule
    vip: VipRule
    cluster: ClusterRule
    trend: TrendRule | None = None
    theme: tuple[ThemeRule, ...] = ()  # [[theme]] tables
    cases: CaseSettings

    @model_validator(mode="after")
    def _unique_ids(self) -> AlertRules:
        ids = [rule.id for rule in self.rules()] + ([self.trend.id] if self.trend else [])
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"rule ids must be unique: {duplicates}")
        return self

    def rules(self) -> tuple[_Rule, ...]:
        return (self.detractor, self.keywords, self.vip, self.cluster, *self.theme)

    def get(self, rule_id: str) -> _Rule | None:
        return next((rule for rule in self.rules() if rule.id == rule_id), None)


@dataclass(frozen=True)
class FiredRule:
    rule_id: str
    kind: Literal["detractor", "keyword", "vip", "cluster", "theme"]
    severity: Severity
    opens_case: bool
    keywords: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()  # a theme rule's themes the comment's analysis names


def _fired(rule: _Rule, kind: Literal["detractor", "keyword", "vip", "cluster", "theme"], **extra: Any) -> FiredRule:
    return FiredRule(rule.id, kind, rule.severity, rule.opens_case, **extra)


def is_detractor(rules: AlertRules, response: Response) -> bool:
    return rules.detractor.fires(response)


def evaluate(rules: AlertRules, response: Response, cluster_reached: bool = False) -> list[FiredRule]:
    """The rules that fire for this response, in the configured order.

    ``cluster_reached``: the service found this detractor completes a cluster at its store (and
    no cluster alert went out for that store within the window).
    """
    fired: list[FiredRule] = []
    if rules.detractor.enabled and rules.detractor.fires(response):
        fired.append(_fired(rules.detractor, "detractor"))
    if rules.keywords.enabled:
        found = rules.keywords.matches(response.comment)
        if found:
            fired.append(_fired(rules.keywords, "keyword", keywords=tuple(found)))
    if rules.vip.enabled and rules.vip.fires(response):
        fired.append(_fired(rules.vip, "vip"))
    if rules.cluster.enabled and cluster_reached:
        fired.append(_fired(rules.cluster, "cluster"))
    return fired + evaluate_themes(rules, response)


def evaluate_themes(rules: AlertRules, response: Response) -> list[FiredRule]:
    """The theme rules that fire on the comment's current analysis, in the configured order."""
    fired = []
    for rule in rules.theme:
        found = rule.matches(response) if rule.enabled else ()
        if found:
            fired.append(_fired(rule, "theme", themes=found))
    return fired


def case_severity(fired: list[FiredRule]) -> Severity | None:
    """The severity of the case these rules open: the highest of the case-opening ones; None for no case."""
    opening = [rule.severity for rule in fired if rule.opens_case]
    return max(opening, key=lambda s: s.rank) if opening else None


# -- routing -------------------------------------------------------------------------------------


class Channel(StrEnum):
    SNS = "sns"
    EMAIL = "email"
    BOTH = "both"

    @property
    def sns(self) -> bool:
        return self in (Channel.SNS, Channel.BOTH)

    @property
    def email(self) -> bool:
        return self in (Channel.EMAIL, Channel.BOTH)


class Person(_Config):
    """Someone alerts and cases are routed to. ``id`` is their subject (``sub``) in the API's tokens."""

    id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")]
    email: EmailAddress


class RouteDefaults(_Config):
    owner: Person | None = None
    manager: Person | None = None
    team: Slug | None = None
    time_zone: TimeZoneName | None = None
    channel: Channel | None = None
    calendar: Slug | None = None  # a [calendars.<id>] entry: whose public holidays the SLA skips
    language: Language | None = None  # of the emails to the people of this entry
    # The owner's alert emails: one per answer, or gathered into a daily or weekly digest sent at
    # ``digest_hour`` in the entry's time zone (weekly: on ``digest_weekday``, ISO 1 = Monday).
    delivery: Delivery | None = None
    digest_hour: Annotated[int, Field(ge=0, le=23)] | None = None
    digest_weekday: Annotated[int, Field(ge=1, le=7)] | None = None

    @model_validator(mode="after")
    def _weekday_is_weekly(self) -> RouteDefaults:
        if self.digest_weekday is not None and self.delivery not in (None, Delivery.WEEKLY):
            raise ValueError(f'digest_weekday is for delivery = "weekly", not {self.delivery.value!r}')
        return self


class StoreRoute(RouteDefaults):
    id: Label
    region: Label | None = None


class RegionRoute(RouteDefaults):
    id: Label


class Fallback(_Config):
    owner: Person
    manager: Person
    team: Slug
    time_zone: TimeZoneName = "Europe/Warsaw"
    channel: Channel = Channel.BOTH
    calendar: Slug = DEFAULT_CALENDAR
    language: Language = "en"
    delivery: Delivery = Delivery.IMMEDIATE
    digest_hour: Annotated[int, Field(ge=0, le=23)] = 8
    digest_weekday: Annotated[int, Field(ge=1, le=7)] = 1  # the entries' default; read for weekly only


class HolidayCalendar(_Config):
    holidays: tuple[date, ...] = ()


class WorkingHours(_Config):
    start: time = time(9)
    end: time = time(17)
    weekdays: tuple[Annotated[int, Field(ge=1, le=7)], ...] = (1, 2, 3, 4, 5)

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        if not self.weekdays:
            raise ValueError("weekdays must name at least one day")
        return self


class SlaHours(_Config):
    high: Annotated[float, Field(gt=0, le=24 * 30)]
    normal: Annotated[float, Field(gt=0, le=24 * 30)]
    low: Annotated[float, Field(gt=0, le=24 * 30)]

    def of(self, severity: Severity) -> float:
        return float(getattr(self, severity.value))


@dataclass(frozen=True)
class Route:
    owner: Person
    manager: Person
    team: str
    time_zone: str
    channel: Channel
    matched: Literal["store", "region", "fallback"]
    calendar: str = DEFAULT_CALENDAR
    language: str = "en"
    digest: DigestSchedule = IMMEDIATE  # unless the entry asks for a digest

    @property
    def immediate(self) -> bool:
        return self.digest.delivery is Delivery.IMMEDIATE


class RoutingTable(_Config):
    schema_version: Literal[1]
    fallback: Fallback
    sla_hours: SlaHours
    working_hours: WorkingHours = WorkingHours()
    holidays: tuple[date, ...] = ()  # the "default" calendar's
    calendars: dict[Slug, HolidayCalendar] = Field(default_factory=dict)
    region: tuple[RegionRoute, ...] = ()
    store: tuple[StoreRoute, ...] = ()

    @model_validator(mode="after")
    def _unique_and_known(self) -> RoutingTable:
        for kind, entries in (("region", self.region), ("store", self.store)):
            ids = [entry.id for entry in entries]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind} ids {duplicates}")
        regions = {entry.id for entry in self.region}
        for entry in self.store:
            if entry.region is not None and entry.region not in regions:
                raise ValueError(f"store {entry.id!r} names region {entry.region!r}, which has no [[region]] entry")
        if DEFAULT_CALENDAR in self.calendars:
            raise ValueError(f"[calendars.{DEFAULT_CALENDAR}] is implicit: its holidays are the top-level list")
        known = {DEFAULT_CALENDAR, *self.calendars}
        for kind, entries in (("fallback", (self.fallback,)), ("region", self.region), ("store", self.store)):
            for entry in entries:
                if entry.calendar is not None and entry.calendar not in known:
                    name = getattr(entry, "id", kind)
                    raise ValueError(
                        f"{kind} {name!r} names calendar {entry.calendar!r}, which has no [calendars] entry"
                    )
        return self

    @cached_property
    def working_calendars(self) -> dict[str, WorkingCalendar]:
        """Working hours with each calendar's holidays, by name ("default": the top-level list)."""
        hours = self.working_hours
        holidays = {DEFAULT_CALENDAR: self.holidays, **{name: c.holidays for name, c in self.calendars.items()}}
        return {
            name: WorkingCalendar(hours.start, hours.end, frozenset(hours.weekdays), frozenset(days))
            for name, days in holidays.items()
        }

    @property
    def calendar(self) -> WorkingCalendar:
        """The default calendar."""
        return self.working_calendars[DEFAULT_CALENDAR]

    def calendar_for(self, name: str) -> WorkingCalendar:
        """The named calendar; an unknown name (a case opened before its calendar was removed from
        the file) falls back to the default."""
        return self.working_calendars.get(name, self.calendar)

    def route(self, context: dict[str, str]) -> Route:
        """Store entry over its region's (the store's own region, else the context's) over the fallback."""
        store = next((s for s in self.store if s.id == context.get("store")), None)
        region_id = (store.region if store and store.region else None) or context.get("region")
        region = next((r for r in self.region if r.id == region_id), None)
        layers = [layer for layer in (store, region) if layer is not None]

        def pick(name: str) -> Any:
            found = next((getattr(layer, name) for layer in layers if getattr(layer, name) is not None), None)
            return getattr(self.fallback, name) if found is None else found

        matched: Literal["store", "region", "fallback"] = "store" if store else "region" if region else "fallback"
        return Route(
            owner=pick("owner"),
            manager=pick("manager"),
            team=pick("team"),
            time_zone=pick("time_zone"),
            channel=pick("channel"),
            matched=matched,
            calendar=pick("calendar"),
            language=pick("language"),
            digest=DigestSchedule(delivery=pick("delivery"), hour=pick("digest_hour"), weekday=pick("digest_weekday")),
        )

    def digest_routes(self) -> list[Route]:
        """Every route whose owner gets digests by email, once per owner, schedule and time zone: who
        the scheduled digest run looks at. Each entry resolves as an answer of it would (a store
        without a region of its own under each region an answer may name)."""
        contexts: list[dict[str, str]] = [{}]
        contexts += [{"region": r.id} for r in self.region]
        for s in self.store:
            contexts.append({"store": s.id})
            if s.region is None:
                contexts += [{"store": s.id, "region": r.id} for r in self.region]
        found: dict[tuple[str, DigestSchedule, str], Route] = {}
        for context in contexts:
            route = self.route(context)
            if not route.immediate and route.channel.email:
                found.setdefault((route.owner.id, route.digest, route.time_zone), route)
        return list(found.values())


# -- loading -------------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AlertConfigError(f"{path.name}: not valid TOML: {exc}") from exc


def parse_alert_rules(raw: dict[str, Any], origin: str = "alerts") -> AlertRules:
    try:
        return AlertRules.model_validate(raw)
    except ValidationError as exc:
        raise AlertConfigError(f"{origin}: " + "; ".join(describe(exc.errors()))) from exc


def parse_routing(raw: dict[str, Any], origin: str = "routing") -> RoutingTable:
    try:
        return RoutingTable.model_validate(raw)
    except ValidationError as exc:
        raise AlertConfigError(f"{origin}: " + "; ".join(describe(exc.errors()))) from exc


def load_alert_rules(path: Path = DEFAULT_ALERTS_FILE) -> AlertRules:
    return parse_alert_rules(_read(path), origin=path.name)


def load_routing(path: Path = DEFAULT_ROUTING_FILE) -> RoutingTable:
    return parse_routing(_read(path), origin=path.name)
