"""The answers behind a view: newest first, in the caller's scope, a page at a time (or all, for the CSV).

A view's answers come from the answer index (docs/data-model.md), never from a scan:

- one store (``store=``, or a store manager's own store): that store's partition;
- a region (``region=``, or a regional manager without a segment): the partitions of the region's
  stores in routing.toml, each read with the page size as ``Limit`` and merged by time;
- the whole network (all-stores reach, no store or region): the network's month partitions, newest first.

``channel``, ``ctx.<key>``, ``group``/``score`` and ``comment=1`` narrow with the index's filter, and
``q`` here (case- and diacritic-insensitive, ``npsloop.domain.answers``): DynamoDB charges the items it
reads before a filter, so filtering here costs the same reads and keeps no copy of the comment. Reads
per page are therefore bounded by sources x (page + 1) x ``MAX_ROUNDS``, whatever the number of
answers; a narrow filter may show a short page with "more" (the next stretch of time).

Paging: a page ends at a *position*; the next page asks for what lies strictly before it. A source
that stopped early (its ``Limit``) was read down to its frontier; only answers at or above the highest
frontier are certain to be in order, so the rest wait for the next round or page.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from npsloop.domain.alerts import RoutingTable
from npsloop.domain.answers import csv_cell, matches, position_of
from npsloop.domain.programs import ProgramCatalogue, SurveyProgram
from npsloop.domain.responses import Response, masked_comment
from npsloop.domain.scope import Scope
from npsloop.domain.view_filters import GROUP_SCORES, InvalidFilters, ViewFilters, group_of
from npsloop.ports.answers import AnswerIndex, AnswerSource, Narrowing

PAGE_SIZE = 25
LIVE_SIZE = 5
DOWNLOAD_BATCH = 200  # answers per read of a download (well under a Query's 1 MB)
MAX_ROUNDS = 3  # reads of each source per page at most, when filters leave a page short


class AnswersRefused(Exception):
    """The caller may not see these answers; ``kind`` names why (no_scores | outside | no_search)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class AnswerPlan:
    """Which partitions a view reads, and what narrows them: decided by the filters and the scope."""

    program: SurveyProgram
    stores: tuple[str, ...] | None  # None: the network's month partitions
    months: tuple[str, ...]  # yyyy-mm, newest first (network only)
    low: str  # the window's first position (inclusive)
    high: str  # the window's end (exclusive)
    narrowing: Narrowing
    query: str | None
    personal: bool  # comments (masked) and customer ids may be shown
    theme: str | None = None  # the comment's analysis names this theme
    sentiment: str | None = None  # the comment's analysis has this sentiment

    def sources(self) -> list[list[AnswerSource]]:
        """Each list is one stream of partitions, read newest first; streams are merged by time."""
        if self.stores is None:
            return [[AnswerSource(self.program.id, month=m) for m in self.months]]
        return [[AnswerSource(self.program.id, store=s)] for s in self.stores]


@dataclass(frozen=True)
class AnswerPage:
    answers: list[Response]
    next_before: str | None  # the position to continue below; None: no more answers in the view
    plan: AnswerPlan
    reads: int = 0  # index queries this page made


def _months(first: date, last: date) -> tuple[str, ...]:
    months, day = [], last.replace(day=1)
    while day >= first.replace(day=1):
        months.append(f"{day:%Y-%m}")
        day = (day - timedelta(days=1)).replace(day=1)
    return tuple(months)


def plan_for(
    filters: ViewFilters, scope: Scope, today: date, programs: ProgramCatalogue, routing: RoutingTable
) -> AnswerPlan:
    """The query plan of a view for this caller; ``AnswersRefused`` or ``InvalidFilters`` when none."""
    if not scope.reads_scores:
        raise AnswersRefused("no_scores", "answers need a role with a store scope")
    program = programs.get(filters.program) if filters.program else programs.program[0]
    if program is None:
        raise InvalidFilters(f"program: no program {filters.program!r}")
    if filters.q and not scope.may_see_personal_data():
        raise AnswersRefused("no_search", "searching comments needs access to personal data")
    first, last = filters.window(today)
    if filters.store is not None:
        if not scope.may_read_store(filters.store):
            raise AnswersRefused("outside", f"store {filters.store} is outside your scope ({scope.describe()})")
        stores: tuple[str, ...] | None = (filters.store,)
    elif filters.region is not None:
        if not scope.may_read_region(filters.region):
            raise AnswersRefused("outside", f"region {filters.region} is outside your scope ({scope.describe()})")
        stores = tuple(sorted(s.id for s in routing.store if s.region == filters.region))
    elif scope.all_stores:
        stores = None
    else:
        stores = tuple(sorted(scope.stores))
    scores = None
    if filters.score is not None:
        scores = (filters.score, filters.score)
    elif filters.group is not None:
        band = GROUP_SCORES[program.survey][filters.group]
        scores = (band.start, band.stop - 1)
    context = next(iter(filters.context.items()), None)
    personal = scope.may_see_personal_data()
    return AnswerPlan(
        program=program,
        stores=stores,
        months=_months(first, last) if stores is None else (),
        low=first.isoformat(),
        high=(last + timedelta(days=1)).isoformat(),
        narrowing=Narrowing(
            scores=scores,
            channel=filters.channel,
            context=context,
            comment_only=bool(filters.comment or filters.theme or filters.sentiment),
        ),
        query=filters.q if personal else None,
        personal=personal,
        theme=filters.theme,
        sentiment=filters.sentiment,
    )


@dataclass
class _Round:
    found: list[Response] = field(default_factory=list)
    frontiers: list[str] = field(default_factory=list)
    reads: int = 0


class AnswerService:
    def __init__(self, index: AnswerIndex, programs: ProgramCatalogue, routing: RoutingTable) -> None:
        self._index = index
        self._programs = programs
        self._routing = routing

    def plan(self, filters: ViewFilters, scope: Scope, today: date) -> AnswerPlan:
        return plan_for(filters, scope, today, self._programs, self._routing)

    def _read_stream(self, stream: list[AnswerSource], plan: AnswerPlan, high: str, size: int, out: _Round) -> None:
        wanted = size
        for source in stream:
            if source.month is not None and source.month > high[:7]:
                continue  # a month after the page's end
            batch = self._index.read(source, plan.low, high, wanted, plan.narrowing)
            out.reads += 1
            out.found += [a for a in batch.answers if _analysed_as(a, plan) and matches(masked_comment(a), plan.query)]
            if batch.frontier is not None:
                out.frontiers.append(batch.frontier)
                return
            wanted = max(1, wanted - len(batch.answers))

    def page(self, plan: AnswerPlan, before: str | None = None, size: int = PAGE_SIZE,
             max_rounds: int = MAX_ROUNDS) -> AnswerPage:  # fmt: skip
        """Up to ``size`` answers of the plan strictly before ``before`` (or from the newest)."""
        if plan.stores == ():
            return AnswerPage([], None, plan)
        high = min(before, plan.high) if before else plan.high
        shown: list[Response] = []
        reads = 0
        for _ in range(max_rounds):
            round_ = _Round()
            for stream in plan.sources():
                self._read_stream(stream, plan, high, size, round_)
            reads += round_.reads
            frontier = max(round_.frontiers) if round_.frontiers else None
            ordered = sorted(round_.found, key=lambda a: position_of(a.created_at, a.invitation_id), reverse=True)
            certain = [a for a in ordered if frontier is None or position_of(a.created_at, a.invitation_id) >= frontier]
            shown += certain[: size - len(shown)]
            if len(shown) >= size:
                last = shown[-1]
                return AnswerPage(shown, position_of(last.created_at, last.invitation_id), plan, reads)
            if frontier is None:
                return AnswerPage(shown, None, plan, reads)
            high = frontier
        return AnswerPage(shown, high, plan, reads)

    def everything(self, plan: AnswerPlan) -> Iterator[Response]:
        """Every answer of the plan, newest first, a batch at a time (a download: reads grow with it)."""
        before: str | None = None
        while True:
            page = self.page(plan, before, size=DOWNLOAD_BATCH, max_rounds=1)
            yield from page.answers
            if page.next_before is None:
                return
            before = page.next_before

    def cases_among(self, answers: list[Response], scope: Scope) -> set[str]:
        """The ids of these answers' cases the caller may open (cases of their stores, or every case)."""
        candidates = [
            a.invitation_id
            for a in answers
            if scope.all_cases or (scope.cases_in_scope and a.context.get("store") in scope.stores)
        ]
        return self._index.cases_among(candidates) if candidates else set()


# -- the CSV download ------------------------------------------------------------------------------
# A Lambda function invoked synchronously returns at most 6 MB (docs.aws.amazon.com/lambda/latest/dg/
# API_Invoke.html: "For synchronous invocations, the maximum payload size is 6 MB"); an HTTP API takes
# up to 10 MB, so Lambda's limit binds. The body travels inside the function's JSON result, where the
# runtime escapes every non-ASCII character ("ż" -> "\u017c", 6 bytes): the budget counts the escaped size
# and keeps a margin for the headers and the envelope.
CSV_BUDGET_BYTES = 5_000_000
CSV_BOM = "\ufeff"
CSV_COLUMNS = ("answered_at", "store", "region", "channel", "score", "group", "has_comment")
CSV_PERSONAL_COLUMNS = ("comment", "customer_id")


@dataclass(frozen=True)
class CsvFile:
    text: str
    rows: int
    truncated: bool


def _csv_line(cells: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([csv_cell(c) for c in cells])
    return buffer.getvalue()


def _escaped_size(text: str) -> int:
    return len(json.dumps(text)) - 2


def answers_csv(answers: Iterable[Response], plan: AnswerPlan, cut_note: str,
                budget: int = CSV_BUDGET_BYTES) -> CsvFile:  # fmt: skip
    """The answers as CSV (UTF-8 with a BOM, CRLF): personal columns only when the plan allows them.
    Past ``budget`` the file ends with ``cut_note`` (``{rows}`` and ``{last}`` filled in) as its last line."""
    columns = CSV_COLUMNS + (CSV_PERSONAL_COLUMNS if plan.personal else ()) + ("answer_id",)
    lines = [CSV_BOM + _csv_line(list(columns))]
    used = _escaped_size(lines[0])
    reserve = _escaped_size(cut_note) + 200
    rows = 0
    last: str | None = None
    for answer in answers:
        cells: list[object] = [
            position_of(answer.created_at, answer.invitation_id).split("#")[0],
            answer.context.get("store", ""),
            answer.context.get("region", ""),
            answer.context.get("channel", ""),
            answer.score,
            group_of(answer.survey_type, answer.score).value,
            "yes" if answer.comment else "no",
        ]
        if plan.personal:
            cells += [masked_comment(answer) or "", answer.customer_id]
        cells.append(answer.invitation_id)
        line = _csv_line(cells)
        size = _escaped_size(line)
        if used + size > budget - reserve:
            note = cut_note.format(rows=rows, last=last or "-")
            lines.append(_csv_line([note]))
            return CsvFile("".join(lines), rows, truncated=True)
        lines.append(line)
        used += size
        rows += 1
        last = str(cells[0])
    return CsvFile("".join(lines), rows, truncated=False)


def _analysed_as(answer: Response, plan: AnswerPlan) -> bool:
    """The theme and sentiment filters: on the comment's current analysis (unanalysed comments never match)."""
    if plan.theme is None and plan.sentiment is None:
        return True
    analysis = answer.current_analysis
    if analysis is None:
        return False
    return (plan.theme is None or plan.theme in analysis.themes) and (
        plan.sentiment is None or analysis.sentiment == plan.sentiment
    )
