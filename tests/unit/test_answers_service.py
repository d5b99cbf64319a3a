"""The answers behind a view: which partitions a caller's view reads, with what Limit; filters; paging;
text search with and without diacritics; the CSV's columns, escaping and cut."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from npsloop.domain.alerts import load_routing
from npsloop.domain.answers import csv_cell, highlight, matches
from npsloop.domain.programs import load_programs
from npsloop.domain.scope import load_roles, scope_of
from npsloop.domain.view_filters import ViewFilters
from npsloop.ports.answers import AnswerSource
from npsloop.services.answers import PAGE_SIZE, AnswerService, AnswersRefused, answers_csv
from tests.fakes_answers import PROGRAM, InMemoryAnswers, answer

TODAY = date(2026, 12, 1)
NOON = datetime(2026, 11, 30, 12, tzinfo=UTC)
ROUTING = load_routing()


def scope(*groups: str, subject: str = "u-1"):
    return scope_of(subject, groups, load_roles(), ROUTING)


def service(index: InMemoryAnswers) -> AnswerService:
    return AnswerService(index, load_programs(), ROUTING)


def view(**params: str) -> ViewFilters:
    return ViewFilters.parse(params)


def spread(n: int, store: str = "KRK-02", start: int = 0, **kw):
    return [answer(start + i, NOON - timedelta(hours=i), store=store, **kw) for i in range(n)]


def test_a_store_manager_reads_their_stores_partition_only_with_the_page_as_limit():
    # GIVEN answers of two stores
    index = InMemoryAnswers(spread(60) + spread(60, store="WAW-01", start=100, region="mazowieckie"))
    answers = service(index)
    # WHEN KRK-02's manager opens the list without a segment
    plan = answers.plan(view(), scope("npsloop-store-KRK-02"), TODAY)
    page = answers.page(plan)
    # THEN one query of their store's partition, Limit 25 (+1), newest first, 25 answers of KRK-02
    assert index.reads == [(AnswerSource(PROGRAM, store="KRK-02"), PAGE_SIZE)]
    assert [a.invitation_id for a in page.answers] == [f"inv-{i:05d}" for i in range(25)]
    assert page.next_before is not None


def test_another_store_in_the_url_is_refused_not_widened():
    answers = service(InMemoryAnswers())
    with pytest.raises(AnswersRefused) as refused:
        answers.plan(view(store="WAW-01"), scope("npsloop-store-KRK-02"), TODAY)
    assert refused.value.kind == "outside"
    with pytest.raises(AnswersRefused, match="region mazowieckie"):
        answers.plan(view(region="mazowieckie"), scope("npsloop-region-malopolskie"), TODAY)


def test_a_plain_case_owner_gets_an_explanation_and_an_analyst_no_comment_search():
    answers = service(InMemoryAnswers())
    with pytest.raises(AnswersRefused) as owner:
        answers.plan(view(), scope(), TODAY)
    assert owner.value.kind == "no_scores"
    analyst = answers.plan(view(), scope("npsloop-analyst"), TODAY)
    assert analyst.personal is False and analyst.stores is None
    with pytest.raises(AnswersRefused) as search:
        answers.plan(view(q="kolejka"), scope("npsloop-analyst"), TODAY)
    assert search.value.kind == "no_search"


def test_a_region_merges_its_stores_by_time_and_pages_on_without_gaps_or_repeats():
    # GIVEN interleaved answers of the two mazowieckie stores
    waw = [answer(i, NOON - timedelta(minutes=2 * i), store="WAW-01", region="mazowieckie") for i in range(40)]
    online = [answer(100 + i, NOON - timedelta(minutes=2 * i + 1), store="online-pl", region="mazowieckie")
              for i in range(40)]  # fmt: skip
    index = InMemoryAnswers(waw + online)
    answers = service(index)
    plan = answers.plan(view(), scope("npsloop-region-mazowieckie"), TODAY)
    assert plan.stores == ("WAW-01", "online-pl")
    # WHEN every page is read
    seen, before, pages = [], None, 0
    while True:
        page = answers.page(plan, before)
        pages += 1
        seen += page.answers
        assert len(index.reads) <= 2 * pages  # one Limit-ed read per store and page (no filter)
        if page.next_before is None:
            break
        before = page.next_before
    # THEN all 80, newest first, each once
    times = [a.created_at for a in seen]
    assert len(seen) == 80 and len({a.invitation_id for a in seen}) == 80 and times == sorted(times, reverse=True)


def test_the_network_reads_month_partitions_newest_first_and_stops_when_the_page_is_full():
    index = InMemoryAnswers(spread(30) + [answer(500 + i, datetime(2026, 10, 5, tzinfo=UTC) - timedelta(hours=i))
                                          for i in range(30)])  # fmt: skip
    answers = service(index)
    plan = answers.plan(view(**{"from": "2026-09-01", "to": "2026-11-30"}), scope("npsloop-cx-lead"), TODAY)
    assert plan.months == ("2026-11", "2026-10", "2026-09")
    page = answers.page(plan)
    assert [s.month for s, _ in index.reads] == ["2026-11"]
    assert len(page.answers) == 25
    second = answers.page(plan, page.next_before)
    assert [a.invitation_id for a in second.answers][:5] == ["inv-00025", "inv-00026", "inv-00027", "inv-00028",
                                                              "inv-00029"]  # fmt: skip
    assert second.answers[5].invitation_id == "inv-00500"


def test_reads_per_page_do_not_grow_with_the_number_of_answers():
    def reads_for(n: int) -> tuple[int, int]:
        index = InMemoryAnswers(spread(n, score=3) + spread(n, store="KRK-02", start=10_000, score=10))
        answers = service(index)
        plan = answers.plan(view(group="detractor"), scope("npsloop-store-KRK-02"), TODAY)
        answers.page(plan)
        return len(index.reads), index.items_read

    assert reads_for(50) == reads_for(500)


def test_filters_narrow_in_the_index_and_a_short_page_says_there_is_more():
    # GIVEN 1 detractor among 100 promoters, the detractor oldest
    index = InMemoryAnswers([*spread(100), answer(999, NOON - timedelta(days=10), score=2, comment="Żółw")])
    answers = service(index)
    plan = answers.plan(view(group="detractor"), scope("npsloop-store-KRK-02"), TODAY)
    assert plan.narrowing.scores == (0, 6)
    page = answers.page(plan)
    # THEN the page is short (bounded reads: 3 rounds of 26) and offers more
    assert page.answers == [] and page.next_before is not None and len(index.reads) == 3
    rest = answers.page(plan, page.next_before)
    assert [a.invitation_id for a in rest.answers] == ["inv-00999"]


def test_text_search_ignores_case_and_diacritics_unless_the_query_has_them():
    assert matches("Żółw w kolejce!", "zolw") and matches("Żółw w kolejce!", "ŻÓŁW")
    assert matches("ZOLW", "zolw") and not matches("ZOLW", "żółw")
    assert not matches(None, "x") and matches(None, None)
    assert highlight("Obsługa: ŻÓŁW, żółw.", "zolw") == [("Obsługa: ", False), ("ŻÓŁW", True), (", ", False),
                                                         ("żółw", True), (".", False)]  # fmt: skip


def test_search_is_applied_to_the_page_and_needs_no_copy_of_the_comment():
    index = InMemoryAnswers([answer(1, NOON, comment="Długa kolejka"), answer(2, NOON - timedelta(hours=1),
                                                                              comment="Miła obsługa")])  # fmt: skip
    answers = service(index)
    plan = answers.plan(view(q="KOLEJKA"), scope("npsloop-store-KRK-02"), TODAY)
    assert [a.invitation_id for a in answers.page(plan).answers] == ["inv-00001"]


def test_case_links_only_for_cases_the_caller_may_open():
    index = InMemoryAnswers(spread(3), cases={"inv-00000"})
    answers = service(index)
    rows = answers.page(answers.plan(view(), scope("npsloop-store-KRK-02"), TODAY)).answers
    assert answers.cases_among(rows, scope("npsloop-store-KRK-02")) == {"inv-00000"}
    assert answers.cases_among(rows, scope("npsloop-analyst")) == set()


def _rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_guards_formulas_and_hides_personal_columns_from_an_analyst():
    index = InMemoryAnswers([answer(1, NOON, score=1, comment="=HYPERLINK(\"x\")"), answer(2, NOON - timedelta(hours=1),
                                                                                         comment="-2 @a")])  # fmt: skip
    answers = service(index)
    manager = answers.plan(view(), scope("npsloop-store-KRK-02"), TODAY)
    rows = _rows(answers_csv(answers.everything(manager), manager, "cut").text)
    assert rows[0] == ["answered_at", "store", "region", "channel", "score", "group", "has_comment", "comment",
                       "customer_id", "answer_id"]  # fmt: skip
    assert rows[1][7] == '\'=HYPERLINK("x")' and rows[2][7] == "'-2 @a" and rows[1][5] == "detractor"
    analyst = answers.plan(view(), scope("npsloop-analyst"), TODAY)
    rows = _rows(answers_csv(answers.everything(analyst), analyst, "cut").text)
    assert "comment" not in rows[0] and "customer_id" not in rows[0] and len(rows) == 3
    assert all("HYPERLINK" not in cell and cell != "C-1" for row in rows for cell in row)
    assert [csv_cell(v) for v in ("\tx", "\rx", "+1", "ok")] == ["'\tx", "'\rx", "'+1", "ok"]


def test_the_csv_reads_every_page_and_ends_with_a_clear_line_when_cut():
    index = InMemoryAnswers(spread(450, comment="żółw " * 20))
    answers = service(index)
    plan = answers.plan(view(), scope("npsloop-store-KRK-02"), TODAY)
    whole = answers_csv(answers.everything(plan), plan, "cut after {rows} ({last})")
    assert whole.rows == 450 and not whole.truncated
    cut = answers_csv(answers.everything(plan), plan, "cut after {rows} ({last})", budget=40_000)
    rows = _rows(cut.text)
    assert cut.truncated and 0 < cut.rows < 450 and rows[-1][0].startswith(f"cut after {cut.rows} (2026-")
    assert len(rows) == cut.rows + 2


def _analysed(a, themes: tuple[str, ...], sentiment: str):
    from npsloop.domain.responses import ResponseAnalysis, text_hash

    analysis = ResponseAnalysis(
        sentiment=sentiment,
        themes=themes,
        masked=f"masked: {a.comment}",
        provider="builtin",
        model_version="m1",
        taxonomy_version="t1",
        analysed_text_hash=text_hash(a.comment),
    )
    return a.model_copy(update={"analysis": analysis})


def test_theme_and_sentiment_narrow_the_list_to_comments_so_analysed_shown_masked():
    delivery = _analysed(answer(1, NOON, score=2, comment="Kurier"), ("delivery",), "negative")
    staff = _analysed(answer(2, NOON - timedelta(hours=1), score=3, comment="Obsługa"), ("staff",), "negative")
    happy = _analysed(answer(3, NOON - timedelta(hours=2), comment="Szybki kurier"), ("delivery",), "positive")
    unanalysed = answer(4, NOON - timedelta(hours=3), score=1, comment="Pani Kasia, tel. 601 234 567")
    answers = service(InMemoryAnswers([delivery, staff, happy, unanalysed]))
    manager = scope("npsloop-store-KRK-02")

    by_theme = answers.page(answers.plan(view(theme="delivery"), manager, TODAY))
    negative_delivery = answers.page(answers.plan(view(theme="delivery", sentiment="negative"), manager, TODAY))
    everything = answers.plan(view(), manager, TODAY)
    rows = _rows(answers_csv(answers.everything(everything), everything, "cut").text)

    assert [a.invitation_id for a in by_theme.answers] == ["inv-00001", "inv-00003"]
    assert [a.invitation_id for a in negative_delivery.answers] == ["inv-00001"]
    comments = [row[7] for row in rows[1:]]
    assert comments[:3] == ["masked: Kurier", "masked: Obsługa", "masked: Szybki kurier"]
    assert comments[3] == "Pani [person_name], tel. [phone]"  # not analysed yet: masked on the fly
