"""The analyse stream step and the backfill: once per (text, version), masked, resumable."""

from __future__ import annotations

import copy
import io
from collections.abc import Sequence
from typing import Any

import pytest

from npsloop.domain.responses import Response, ResponseAnalysis, text_hash
from npsloop.ports.text import AnalysisStore
from npsloop.services.analyse import AnalyseService
from npsloop.text.backfill import backfill, bar
from npsloop.text.providers import MaskedComment, ProviderResult
from tests.fakes import ListParking
from tests.fakes_score import record, response
from tests.stream_records import batch

PII = "Pani Kasia była niemiła, PESEL 44051401359, tel. 601 234 567"


class CountingProvider:
    """Says 'negative, staff' of everything; records the (masked) texts it was given."""

    name = "fake"

    def __init__(self, model_version: str = "m1") -> None:
        self.model_version = model_version
        self.seen: list[str] = []

    def analyse(self, comments: Sequence[MaskedComment]) -> list[ProviderResult]:
        self.seen += [c.text for c in comments]
        return [ProviderResult(c.id, "negative", ("staff",), self.name, self.model_version, "t1") for c in comments]


class InMemoryAnalyses(AnalysisStore):
    """Responses by id, with the adapter's write condition."""

    def __init__(self, responses: Sequence[Response] = ()) -> None:
        self.responses = {r.invitation_id: r for r in responses}
        self.writes = 0

    def save_analysis(
        self, invitation_id: str, comment: str, analysis: ResponseAnalysis, *, other_versions: bool
    ) -> bool:
        current = self.responses.get(invitation_id)
        if current is None or current.comment != comment:
            return False
        old = current.analysis
        if old is not None and old.analysed_text_hash == analysis.analysed_text_hash:
            same = (old.provider, old.model_version, old.taxonomy_version) == (
                analysis.provider,
                analysis.model_version,
                analysis.taxonomy_version,
            )
            if not other_versions or same:
                return False
        self.responses[invitation_id] = current.model_copy(update={"analysis": analysis})
        self.writes += 1
        return True

    def commented_responses(
        self, program_id: str | None, start: dict[str, Any] | None, page_size: int
    ) -> tuple[list[Response], dict[str, Any] | None]:
        ids = sorted(i for i, r in self.responses.items() if r.comment)
        at = ids.index(start["id"]) + 1 if start else 0
        page = ids[at : at + page_size]
        rest = {"id": page[-1]} if page and at + page_size < len(ids) else None
        return [self.responses[i] for i in page], rest


@pytest.fixture
def store() -> InMemoryAnalyses:
    return InMemoryAnalyses()


def test_each_new_comment_is_analysed_once_on_its_masked_text(store):
    provider = CountingProvider()
    answers = [response(i, 3, comment=f"{PII} ({i})") for i in range(3)] + [response(9, 10)]
    store.responses = {r.invitation_id: r for r in answers}
    service = AnalyseService(store=store, provider=lambda: provider, parking=ListParking())
    event = batch(*(record("INSERT", new=r) for r in answers))

    first = service.handle(event)
    again = service.handle(copy.deepcopy(event))  # a replay: the condition refuses every write

    assert (first.analysed, first.skipped, again.analysed, again.refused) == (3, 1, 0, 3)
    assert store.writes == 3
    saved = store.responses["inv-00000"].analysis
    assert saved.masked.startswith("Pani [person_name] była niemiła, PESEL [pesel], tel. [phone]")
    assert saved.analysed_text_hash == text_hash(f"{PII} (0)") and saved.themes == ("staff",)
    assert all("44051401359" not in text and "Kasia" not in text for text in provider.seen)  # the provider: masked


def test_the_modify_of_its_own_write_is_skipped_without_loading_the_model(store):
    analysed = response(1, 3, comment=PII).model_copy(
        update={
            "analysis": ResponseAnalysis(
                sentiment="negative",
                themes=(),
                masked="x",
                provider="fake",
                model_version="m0",  # another version: the stream step leaves it to the backfill
                taxonomy_version="t1",
                analysed_text_hash=text_hash(PII),
            )
        }
    )

    def no_model():
        raise AssertionError("the model was loaded")

    service = AnalyseService(store=store, provider=no_model, parking=ListParking())
    outcome = service.handle(batch(record("MODIFY", old=response(1, 3, comment=PII), new=analysed)))

    assert (outcome.skipped, outcome.analysed, outcome.failures) == (1, 0, [])


def test_a_failed_write_reports_its_record_and_stops(store):
    class Broken(InMemoryAnalyses):
        def save_analysis(self, *args, **kwargs):
            raise RuntimeError("throttled")

    answers = [response(i, 3, comment=PII) for i in range(2)]
    service = AnalyseService(store=Broken(answers), provider=CountingProvider, parking=ListParking())
    event = batch(*(record("INSERT", new=r) for r in answers))

    outcome = service.handle(event)

    assert outcome.response() == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]
    }


def test_a_response_image_that_is_no_response_is_parked_with_the_reason(store):
    parking = ListParking()
    service = AnalyseService(store=store, provider=CountingProvider, parking=parking)

    outcome = service.handle(batch(record("INSERT", new={"entity": "response", "comment": "x"})))

    assert outcome.parked == 1 and "not a valid response" in parking.parked[0][1]


def test_the_backfill_reanalyses_only_other_versions_idempotent_and_resumable(tmp_path):
    store = InMemoryAnalyses([response(i, 3, comment=f"{PII} ({i})") for i in range(7)])
    AnalyseService(store=store, provider=CountingProvider, parking=ListParking()).handle(
        batch(*(record("INSERT", new=r) for r in list(store.responses.values())[:5]))  # 5 analysed by m1
    )
    checkpoint = tmp_path / "backfill.json"
    out = io.StringIO()

    class Interrupted(Exception):
        pass

    def stop_after_first_page(progress):
        bar(out)(progress)
        if progress.pages == 1:
            raise Interrupted

    v2 = CountingProvider("m2")
    with pytest.raises(Interrupted):
        backfill(
            store, v2, version=("fake", "m2", "t1"), checkpoint=checkpoint, page_size=3, report=stop_after_first_page
        )
    done = backfill(store, v2, version=("fake", "m2", "t1"), checkpoint=checkpoint, page_size=3, report=bar(out))

    assert (done.seen, done.analysed, done.done) == (7, 7, True)
    assert len(v2.seen) == 7  # the resumed run did not redo the first page
    assert {r.analysis.model_version for r in store.responses.values()} == {"m2"}
    assert "re-analysed 7" in out.getvalue()
    checkpoint.unlink()
    again = backfill(store, v2, version=("fake", "m2", "t1"), checkpoint=checkpoint, page_size=3)
    assert (again.analysed, again.current) == (0, 7)  # idempotent: nothing written the second time
