"""The importer with an in-memory table: mapping, rejects with line numbers, resume, back-off."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from npsloop.adapters.dynamodb_import import DynamoImportWriter, item_of
from npsloop.adapters.dynamodb_items import _marshal, _unmarshal
from npsloop.domain.programs import load_programs
from npsloop.domain.responses import Response, text_hash
from npsloop.importing.mapping import load_mapping
from npsloop.importing.records import Imported, Mapper
from npsloop.ports.importing import ImportWriter
from npsloop.services.analyse import InlineAnalyser, analyses_of
from npsloop.services.importing import Checkpoint, CheckpointMismatch, ImportService, Source, SourceKind
from npsloop.text.providers import BuiltinProvider


class MemoryWriter(ImportWriter):
    """Holds items by key, like the table; ``crash_after`` puts raises on the next one (a crash mid-run)."""

    def __init__(self, crash_after: int | None = None) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.puts = 0
        self.crash_after = crash_after

    def key_of(self, record: Imported) -> tuple[str, str]:
        item = item_of(record)
        return item["pk"]["S"], item["sk"]["S"]

    def existing(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        return {key for key in keys if key in self.items}

    def put(self, records: Sequence[Imported]) -> None:
        if self.crash_after is not None and self.puts >= self.crash_after:
            raise ConnectionError("the network went away")
        assert len(records) <= 25
        self.puts += 1
        for record in records:
            self.items[self.key_of(record)] = item_of(record)


def delighted(n: int, **overrides: Any) -> dict[str, Any]:
    record = {
        "id": str(1000 + n),
        "person": str(500 + n),
        "survey_type": "nps",
        "score": n % 11,
        "comment": "Świetna obsługa" if n % 2 else None,
        "permalink": "https://delighted.com/r/abc",
        "created_at": 1_760_000_000 + n * 3600,
        "updated_at": 1_760_000_000 + n * 3600,
        "person_properties": {"Customer ID": f"C-{n}", "Store": "KRK-02", "Region": "malopolskie", "Locale": "pl-PL"},
        "notes": [{"id": "1", "text": "Oddzwoniono", "user_email": "lead@example.com", "created_at": 1}],
        "tags": ["obsługa"],
        "additional_answers": [],
    }
    record.update(overrides)
    return record


def write_array(path: Path, records: list[Any]) -> Path:
    path.write_text("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n]\n", encoding="utf-8")
    return path


def service(tmp_path: Path, writer: ImportWriter, analyse: Any = None) -> ImportService:
    mapping = load_mapping()
    return ImportService(
        analyse=analyse,
        writer=writer,
        mapper=Mapper(mapping, mapping.check_against(load_programs())),
        checkpoint=Checkpoint(tmp_path / "checkpoint.json"),
        rejects_path=tmp_path / "rejects.jsonl",
        batch_size=10,
    )


def test_a_delighted_response_becomes_a_live_shaped_response_marked_imported_without_contact_data(tmp_path):
    # GIVEN one Delighted response
    source = Source(SourceKind.DELIGHTED_RESPONSES, write_array(tmp_path / "r.json", [delighted(3)]))
    writer = MemoryWriter()

    # WHEN it is imported
    summary = service(tmp_path, writer).run([source])

    # THEN one response item, shaped like a live one, marked imported, with its context, tags and notes
    assert (summary.total("read"), summary.total("imported")) == (1, 1)
    [item] = writer.items.values()
    assert item["entity"] == {"S": "response"} and item["sk"] == {"S": "RESPONSE"}
    assert item["imported"] == {"BOOL": True} and item["source"] == {"S": "delighted"}
    assert item["program_id"] == {"S": "post-purchase-nps"} and item["score"] == {"N": "3"}
    assert item["customer_id"] == {"S": "C-3"} and item["locale"] == {"S": "pl"}
    assert item["context"]["M"] == {"store": {"S": "KRK-02"}, "region": {"S": "malopolskie"}}
    assert item["created_at"]["S"].startswith("2025-10-09T")
    assert item["tags"] == {"L": [{"S": "obsługa"}]} and item["notes"] == {"L": [{"S": "Oddzwoniono"}]}
    # AND no contact data, nor the note's author, nor the permalink
    text = json.dumps(item, ensure_ascii=False)
    assert "@" not in text and "permalink" not in text and "delighted.com" not in text


def test_an_imported_answer_item_sets_its_maps_and_lists_after_its_scalars(tmp_path):
    # GIVEN a response with context, tags, notes and an analysis, imported
    source = Source(SourceKind.DELIGHTED_RESPONSES, write_array(tmp_path / "r.json", [delighted(3)]))
    writer = MemoryWriter()
    service(tmp_path, writer, analyse=InlineAnalyser(BuiltinProvider)).run([source])
    [item] = writer.items.values()

    # THEN its nested attributes come last (moto re-measures what an item holds at each attribute it sets)
    nested = [k for k, v in item.items() if "M" in v or "L" in v]
    assert sorted(nested) == ["analysis", "context", "notes", "tags"]
    assert list(item)[-len(nested) :] == nested


def test_rows_that_cannot_be_mapped_are_reported_with_line_and_reason_and_the_rest_imported(tmp_path):
    # GIVEN an export with an unknown survey type, a score off the scale and a line that is not JSON
    good = [delighted(n) for n in range(4)]
    path = tmp_path / "r.json"
    lines = [json.dumps(good[0]), json.dumps(delighted(5, survey_type="pmf")), json.dumps(good[1])]
    lines += ["{not json", json.dumps(delighted(6, score=11)), json.dumps(good[2]), json.dumps(good[3])]
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    writer = MemoryWriter()

    # WHEN it is imported
    summary = service(tmp_path, writer).run([Source(SourceKind.DELIGHTED_RESPONSES, path)])

    # THEN the good ones are in, and each bad one is in the rejects file with its line and reason
    assert (summary.total("read"), summary.total("imported"), summary.total("rejected")) == (7, 4, 3)
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (3, "survey_type 'pmf' has no program in the mapping"),
        (5, "not valid JSON (Expecting property name enclosed in double quotes)"),
        (6, "score 11 outside the nps scale 0..10"),
    ]
    assert any("rejected rows, with line and reason" in line for line in summary.lines())


def test_an_interrupted_import_resumes_after_its_checkpoint_and_ends_as_one_whole_run(tmp_path):
    # GIVEN 95 responses (one rejected), and an import that crashes after three batches were written
    records = [delighted(n) for n in range(95)]
    records[70] = delighted(70, survey_type="pmf")
    source = Source(SourceKind.DELIGHTED_RESPONSES, write_array(tmp_path / "r.json", records))
    writer = MemoryWriter(crash_after=3)
    with pytest.raises(ConnectionError):
        service(tmp_path, writer).run([source])
    committed = Checkpoint(tmp_path / "checkpoint.json").committed(source)
    assert committed > 0 and len(writer.items) == 30

    # WHEN it resumes
    writer.crash_after = None
    summary = service(tmp_path, writer).run([source], resume=True)

    # THEN it read only what came after the checkpoint, every good record is in once, the reject once
    assert summary.sources[0].resumed_after == committed
    assert summary.total("read") == 95 - 30
    assert len(writer.items) == 94
    rejects = (tmp_path / "rejects.jsonl").read_text().splitlines()
    assert len(rejects) == 1 and json.loads(rejects[0])["line"] == 72


def test_a_file_changed_while_it_was_imported_cannot_be_resumed(tmp_path):
    # GIVEN an import of 50 responses whose file is rewritten while its second batch is written, then crashes
    path = write_array(tmp_path / "r.json", [delighted(n) for n in range(50)])
    source = Source(SourceKind.DELIGHTED_RESPONSES, path)

    class Rewriting(MemoryWriter):
        def put(self, records: Sequence[Imported]) -> None:
            if self.puts == 1:
                write_array(path, [delighted(n) for n in range(100, 150)])
            super().put(records)

    with pytest.raises(ConnectionError):
        service(tmp_path, Rewriting(crash_after=3)).run([source])

    # WHEN it is resumed, THEN the checkpoint (lines of the file as it was read) does not fit the new file
    with pytest.raises(CheckpointMismatch):
        service(tmp_path, MemoryWriter()).run([source], resume=True)


def test_a_re_import_writes_nothing_and_counts_everything_as_already_there(tmp_path):
    source = Source(SourceKind.DELIGHTED_RESPONSES, write_array(tmp_path / "r.json", [delighted(n) for n in range(30)]))
    writer = MemoryWriter()
    service(tmp_path, writer).run([source])
    before, puts = dict(writer.items), writer.puts

    summary = service(tmp_path, writer).run([source])

    assert (summary.total("imported"), summary.total("skipped")) == (0, 30)
    assert writer.items == before and writer.puts == puts


def test_unsubscribes_and_bounces_suppress_the_address_by_its_hash(tmp_path):
    # GIVEN a people file, an unsubscribe without an email (found through the people file) and a bounce
    people = write_array(tmp_path / "p.json", [{"id": "77", "email": "Ola@Example.pl", "name": "Ola"}])
    unsubscribes = write_array(tmp_path / "u.json", [{"person_id": "77", "unsubscribed_at": 1_760_000_000}])
    bounces = write_array(tmp_path / "b.json", [{"person_id": "78", "email": "x@example.com", "bounced_at": 1}])
    writer = MemoryWriter()

    summary = service(tmp_path, writer).run(
        [
            Source(SourceKind.DELIGHTED_UNSUBSCRIBES, unsubscribes),
            Source(SourceKind.DELIGHTED_BOUNCES, bounces),
            Source(SourceKind.DELIGHTED_PEOPLE, people),
        ]
    )

    items = {item["reason"]["S"]: item for item in writer.items.values()}
    assert set(items) == {"unsubscribed", "hard_bounce"}
    assert all(item["entity"] == {"S": "suppression"} for item in items.values())
    assert "ola@example.pl" not in json.dumps(list(writer.items.values())).lower()
    assert summary.total("imported") == 2 and summary.total("rejected") == 0


def test_a_generic_csv_maps_its_columns_by_the_mapping_file(tmp_path):
    # GIVEN a CSV from another tool and a mapping naming its columns
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[programs]\nnps = "post-purchase-nps"\n[context]\nstore = "Sklep"\n'
        '[csv]\nid = "ID"\nscore = "Ocena"\ntimestamp = "Data"\ncomment = "Komentarz"\n'
        'customer_id = ""\nemail = "E-mail"\ntime_zone = "Europe/Warsaw"\n',
        encoding="utf-8",
    )
    csv_file = tmp_path / "answers.csv"
    csv_file.write_text(
        "ID,Ocena,Data,Komentarz,E-mail,Sklep\n"
        "a1,9,2026-03-01 10:00:00,Super,anna@example.pl,WAW-01\n"
        'a2,ten,2026-03-02 10:00:00,"Wieloliniowy\nkomentarz",piotr@example.pl,WAW-01\n'
        "a3,2,1772445600,,,WAW-01\n",
        encoding="utf-8",
    )
    loaded = load_mapping(mapping)
    writer = MemoryWriter()
    run = ImportService(
        writer=writer,
        mapper=Mapper(loaded, loaded.check_against(load_programs())),
        checkpoint=Checkpoint(tmp_path / "cp.json"),
        rejects_path=tmp_path / "rejects.jsonl",
    )

    summary = run.run([Source(SourceKind.CSV, csv_file)])

    [item] = writer.items.values()
    assert item["created_at"]["S"] == "2026-03-01T09:00:00Z"  # Warsaw time, stored in UTC
    assert item["context"]["M"] == {"store": {"S": "WAW-01"}} and item["comment"] == {"S": "Super"}
    assert item["customer_id"]["S"].startswith("email-sha256:") and "anna" not in json.dumps(item)
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (3, "score is missing or not a whole number"),
        (5, "no customer: column '' and 'E-mail' are both blank"),
    ]
    assert summary.total("read") == 3


class ThrottledClient:
    """A DynamoDB client that leaves items unprocessed the first ``times`` times, as under throttling."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.calls: list[int] = []

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        requests = RequestItems["t"]
        self.calls.append(len(requests))
        if self.times:
            self.times -= 1
            return {"UnprocessedItems": {"t": requests[1:]}}
        return {"UnprocessedItems": {}}


def test_unprocessed_items_are_retried_with_exponential_back_off(tmp_path):
    source = write_array(tmp_path / "r.json", [delighted(n) for n in range(5)])
    mapping = load_mapping()
    mapper = Mapper(mapping, mapping.check_against(load_programs()))
    records = [
        mapper.delighted_response(json.loads(line.rstrip(","))) for line in source.read_text().splitlines()[1:-1]
    ]
    client, sleeps = ThrottledClient(times=3), []

    DynamoImportWriter("t", client, sleep=sleeps.append).put(records)

    assert client.calls == [5, 4, 3, 2]
    assert sleeps == [0.05, 0.1, 0.2]


class CountingAnalyser(InlineAnalyser):
    """The built-in provider, counting its calls and the comments it was given."""

    def __init__(self) -> None:
        super().__init__(BuiltinProvider)
        self.calls: list[int] = []

    def __call__(self, responses: Sequence[Response]) -> list[Any]:
        self.calls.append(len(responses))
        return super().__call__(responses)


def test_imported_comments_carry_the_analysis_the_analyse_function_would_write_judged_per_batch(tmp_path):
    # GIVEN 30 Delighted responses, every other one with a comment, imported in batches of ten
    source = Source(SourceKind.DELIGHTED_RESPONSES, write_array(tmp_path / "r.json", [delighted(n) for n in range(30)]))
    writer, analyser = MemoryWriter(), CountingAnalyser()

    # WHEN they are imported with the analysis
    summary = service(tmp_path, writer, analyser).run([source])

    # THEN each commented response's item holds exactly the map save_analysis writes, one provider call per batch
    assert analyser.calls == [5, 5, 5]
    assert summary.total("analysed") == 15
    assert "comments analysed: 15" in summary.lines()
    responses = [Response.model_validate(_unmarshal(item)) for item in writer.items.values()]
    commented = [r for r in responses if r.comment]
    assert len(commented) == 15 and all(r.analysis is None for r in responses if not r.comment)
    expected = analyses_of(commented, BuiltinProvider())
    for response, analysis in zip(commented, expected, strict=True):
        item = writer.items[f"INV#{response.invitation_id}", "RESPONSE"]
        assert item["analysis"] == {"M": _marshal(analysis.model_dump(mode="json"))}  # save_analysis's :analysis
        assert response.current_analysis is not None
        assert response.analysis == analysis and analysis.analysed_text_hash == text_hash("Świetna obsługa")

    # WHEN the same file is imported again: nothing is analysed nor written
    puts = writer.puts
    again = service(tmp_path, writer, analyser).run([source])
    assert analyser.calls == [5, 5, 5] and writer.puts == puts and again.total("analysed") == 0


def test_a_comment_repeated_across_the_export_is_judged_once_and_each_answer_gets_its_analysis(tmp_path):
    # GIVEN 44 answers whose comments are two texts, at two scores each: four distinct inputs to the model
    texts = ["Świetna obsługa", "Długo czekałem na kasie"]
    records = [delighted(n, comment=texts[n % 2], score=(10, 2)[n // 2 % 2]) for n in range(44)]
    source = Source(SourceKind.DELIGHTED_RESPONSES, write_array(tmp_path / "r.json", records))
    writer, analyser = MemoryWriter(), CountingAnalyser()

    # WHEN they are imported with the analysis (batches of ten)
    summary = service(tmp_path, writer, analyser).run([source])

    # THEN the provider judged each distinct (text, score) once, and every answer holds what a lone analysis gives
    assert analyser.judged == 4 and summary.total("analysed") == 44
    responses = [Response.model_validate(_unmarshal(item)) for item in writer.items.values()]
    for response in responses:
        (alone,) = analyses_of([response.model_copy(update={"analysis": None})], BuiltinProvider())
        assert response.analysis == alone


def test_without_analysis_imported_comments_wait_for_the_backfill(tmp_path):
    source = Source(SourceKind.DELIGHTED_RESPONSES, write_array(tmp_path / "r.json", [delighted(n) for n in range(4)]))
    writer = MemoryWriter()

    summary = service(tmp_path, writer).run([source])

    assert summary.total("imported") == 4 and summary.total("analysed") == 0
    assert all("analysis" not in item for item in writer.items.values())
