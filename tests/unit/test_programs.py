import tomllib

import pytest

from npsloop.domain.programs import DEFAULT_PROGRAMS_FILE, ProgramConfigError, load_programs, parse_programs
from npsloop.domain.surveys import SurveyType


def shipped() -> dict:
    return tomllib.loads(DEFAULT_PROGRAMS_FILE.read_text(encoding="utf-8"))


def test_the_three_shipped_programs_load_with_their_survey_types():
    catalogue = load_programs()

    types = {program.id: program.survey for program in catalogue.program}

    assert types == {
        "post-purchase-nps": SurveyType.NPS,
        "support-ces": SurveyType.CES,
        "store-visit-csat": SurveyType.CSAT,
    }


def test_a_bad_field_fails_with_a_message_naming_it():
    raw = shipped()
    raw["program"][2]["sampling_rate"] = 1.5

    with pytest.raises(
        ProgramConfigError, match=r"program\[2\]\.sampling_rate: Input should be less than or equal to 1"
    ):
        parse_programs(raw, origin="programs.toml")


def test_an_unknown_detail_type_in_a_trigger_is_named():
    raw = shipped()
    raw["program"][0]["trigger"]["detail_type"] = "OrderShipped"

    with pytest.raises(
        ProgramConfigError, match=r"program\[0\]\.trigger: Value error, unknown detail_type 'OrderShipped'"
    ):
        parse_programs(raw)


def test_a_misspelt_field_is_rejected_rather_than_ignored():
    raw = shipped()
    raw["program"][1]["recontact_dayz"] = 10

    with pytest.raises(ProgramConfigError, match=r"program\[1\]\.recontact_dayz: Extra inputs are not permitted"):
        parse_programs(raw)


def test_duplicate_program_ids_are_rejected():
    raw = shipped()
    raw["program"][1]["id"] = raw["program"][0]["id"]

    with pytest.raises(ProgramConfigError, match="duplicate program id 'post-purchase-nps'"):
        parse_programs(raw)


def test_invalid_toml_is_reported_with_the_file_name(tmp_path):
    path = tmp_path / "programs.toml"
    path.write_text("schema_version = [", encoding="utf-8")

    with pytest.raises(ProgramConfigError, match=r"programs\.toml: not valid TOML"):
        load_programs(path)


def test_trigger_conditions_select_the_events_a_program_takes():
    catalogue = load_programs()
    detail = {"context": {"channel": "web"}}

    web = catalogue.for_event("acme.shop", "OrderCompleted", detail)
    phone = catalogue.for_event("acme.shop", "OrderCompleted", {"context": {"channel": "phone"}})
    other_source = catalogue.for_event("acme.other", "OrderCompleted", detail)

    assert [p.id for p in web] == ["post-purchase-nps"]
    assert phone == []
    assert other_source == []


def test_sampling_is_deterministic_per_business_key_and_close_to_its_rate():
    program = load_programs().get("store-visit-csat")
    assert program is not None and program.sampling_rate == 0.5

    picks = [program.samples_in(f"visit_id:V-{n}") for n in range(4000)]

    assert picks == [program.samples_in(f"visit_id:V-{n}") for n in range(4000)]
    assert 0.45 < sum(picks) / len(picks) < 0.55


def test_each_program_has_a_name_for_people_in_every_language_and_a_missing_one_is_named():
    catalogue = load_programs()
    assert [p.title("pl") for p in catalogue.program] == [
        "NPS po zakupach",
        "CES po zamknięciu zgłoszenia",
        "CSAT po wizycie w sklepie",
    ]
    assert catalogue.program[0].title("en") == "NPS after an order"
    assert catalogue.program[0].title("de") == "NPS after an order"  # a language it has not: English

    raw = shipped()
    del raw["program"][1]["label"]["pl"]
    with pytest.raises(ProgramConfigError, match=r"program\[1\]\.label\.pl: Field required"):
        parse_programs(raw, origin="programs.toml")
    raw = shipped()
    raw["program"][0]["label"]["en"] = "NPS at {company}"
    with pytest.raises(ProgramConfigError, match=r"program\[0\]: Value error, label: a program's name takes no"):
        parse_programs(raw, origin="programs.toml")
