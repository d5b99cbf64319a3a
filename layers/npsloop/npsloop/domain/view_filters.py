"""The filters of a dashboard view, as they live in its URL: one model for every page and download.

The overview (``/dashboard``), the answers list it drills down to (``/answers``) and the CSV of those
answers (``/answers.csv``) read the same query string, so a shared link shows the same view and a
drill-down is the same URL with one filter more:

    program=post-purchase-nps  period=week  from=2026-09-01  to=2026-11-30
    store=KRK-02 | region=malopolskie | channel=web | ctx.<key>=<value>   (segments)
    group=detractor | score=6  q=kolejka  comment=1                       (answers only)
    theme=delivery  sentiment=negative                                    (answers only: the comment analysis)

Scores come from the day aggregates, which count one dimension at a time: a view takes at most one
segment (``store``, ``region``, ``channel`` or one ``ctx.<key>``). ``group``, ``score``, ``q`` and
``comment=1`` (with a comment only), ``theme`` and ``sentiment`` (of the comment's analysis, issue 12)
narrow the answers list; the overview's tiles ignore them. A
query string that names an unknown key or an impossible value is refused with the reason
(``InvalidFilters``), never silently widened.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Literal, Self
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from npsloop.domain.aggregates import OVERALL, PeriodKind
from npsloop.domain.surveys import SurveyType

DEFAULT_DAYS = 90  # the view without dates: the last 90 days up to today
MAX_DAYS = 400  # as the score API: a view spans at most this many days
CONTEXT_PREFIX = "ctx."
SEGMENT_KEYS = ("store", "region", "channel")

Value = Annotated[str, Field(min_length=1, max_length=128)]
Key = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
ProgramId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class InvalidFilters(ValueError):
    """The query string asks for something impossible; the message says what, in plain words."""


class ScoreGroup(StrEnum):
    """The three groups of every scale, named as for NPS (CSAT: 4-5 / 3 / 1-2; CES: 5-7 / 4 / 1-3)."""

    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


GROUP_SCORES: dict[SurveyType, dict[ScoreGroup, range]] = {
    SurveyType.NPS: {
        ScoreGroup.PROMOTER: range(9, 11),
        ScoreGroup.PASSIVE: range(7, 9),
        ScoreGroup.DETRACTOR: range(0, 7),
    },
    SurveyType.CSAT: {
        ScoreGroup.PROMOTER: range(4, 6),
        ScoreGroup.PASSIVE: range(3, 4),
        ScoreGroup.DETRACTOR: range(1, 3),
    },
    SurveyType.CES: {
        ScoreGroup.PROMOTER: range(5, 8),
        ScoreGroup.PASSIVE: range(4, 5),
        ScoreGroup.DETRACTOR: range(1, 4),
    },
}


def group_of(survey_type: SurveyType, score: int) -> ScoreGroup:
    for group, scores in GROUP_SCORES[survey_type].items():
        if score in scores:
            return group
    raise ValueError(f"{score} is not on the {survey_type} scale")


class ViewFilters(BaseModel):
    """One view's filters. Build it with ``parse``; write it back into a link with ``query``/``with_``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    program: ProgramId | None = None  # None: the first program of the catalogue
    period: PeriodKind = PeriodKind.WEEK  # the trend chart's points
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    store: Value | None = None
    region: Value | None = None
    channel: Value | None = None
    context: dict[Key, Value] = Field(default_factory=dict)  # ctx.<key>=<value>
    group: ScoreGroup | None = None
    score: Annotated[int, Field(ge=0, le=10)] | None = None
    q: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    comment: Literal["1"] | None = None  # answers with a comment only
    theme: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")] | None = None  # a theme id of themes.toml
    sentiment: Literal["positive", "negative", "neutral", "mixed"] | None = None

    @model_validator(mode="after")
    def _one_segment(self) -> Self:
        named = [key for key in SEGMENT_KEYS if getattr(self, key) is not None]
        named += [f"{CONTEXT_PREFIX}{key}" for key in self.context]
        if len(named) > 1:
            raise ValueError(f"a view takes one segment at a time, not {' and '.join(named)}")
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError(f"from ({self.from_}) is after to ({self.to})")
        return self

    @classmethod
    def parse(cls, params: Mapping[str, str] | None) -> ViewFilters:
        """The filters of a query string (``lang`` and ``cursor`` belong to the page, not the view)."""
        raw: dict[str, object] = {}
        context: dict[str, str] = {}
        for key, value in (params or {}).items():
            if key in ("lang", "cursor") or value == "":
                continue
            if key.startswith(CONTEXT_PREFIX):
                context[key[len(CONTEXT_PREFIX) :]] = value
            else:
                raw[key] = value
        if context:
            raw["context"] = context
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            reasons = []
            for problem in error.errors():
                where = ".".join(str(part) for part in problem["loc"])
                where = "from" if where == "from_" else where.replace("context.", CONTEXT_PREFIX)
                reasons.append(f"{where}: {problem['msg']}" if where else problem["msg"])
            raise InvalidFilters("; ".join(reasons)) from None

    def window(self, today: date) -> tuple[date, date]:
        """The inclusive date range: ``from``..``to``, by default the last 90 days up to today."""
        last = self.to or today
        first = self.from_ or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise InvalidFilters(f"from ({first}) is after to ({last})")
        days = (last - first).days + 1
        if days > MAX_DAYS:
            raise InvalidFilters(f"the view spans {days} days; at most {MAX_DAYS}")
        return first, last

    @property
    def segment(self) -> tuple[str, str]:
        """The aggregate dimension and value the view's scores come from: ``("all", "all")`` without one."""
        for key in SEGMENT_KEYS:
            value = getattr(self, key)
            if value is not None:
                return key, value
        for key, value in self.context.items():
            return key, value
        return OVERALL, OVERALL

    def query(self) -> dict[str, str]:
        """The query string of this view, defaults left out (stable order, so links compare equal)."""
        out: dict[str, str] = {}
        if self.program:
            out["program"] = self.program
        if self.period is not PeriodKind.WEEK:
            out["period"] = self.period.value
        if self.from_:
            out["from"] = self.from_.isoformat()
        if self.to:
            out["to"] = self.to.isoformat()
        for key in SEGMENT_KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        for key, value in sorted(self.context.items()):
            out[f"{CONTEXT_PREFIX}{key}"] = value
        if self.group:
            out["group"] = self.group.value
        if self.score is not None:
            out["score"] = str(self.score)
        if self.q:
            out["q"] = self.q
        if self.comment:
            out["comment"] = self.comment
        if self.theme:
            out["theme"] = self.theme
        if self.sentiment:
            out["sentiment"] = self.sentiment
        return out

    def with_(self, **changes: object) -> ViewFilters:
        """This view with some filters changed (``None`` removes one); a segment replaces the segment."""
        data = self.model_dump(by_alias=False)
        if any(key in changes for key in (*SEGMENT_KEYS, "context")):
            for key in SEGMENT_KEYS:
                data[key] = None
            data["context"] = {}
        data.update(changes)
        return ViewFilters.model_validate({("from" if k == "from_" else k): v for k, v in data.items()})

    def href(self, path: str, **changes: object) -> str:
        """A link to ``path`` showing this view (with ``changes``), e.g. a drill-down to ``/answers``."""
        view = self.with_(**changes) if changes else self
        query = view.query()
        return path + (f"?{urlencode(query)}" if query else "")
