"""Numbers, intervals and dates in each page's language (npsloop.formats)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from npsloop.formats import Formats

PL, EN = Formats("pl"), Formats("en")


def test_polish_writes_a_decimal_comma_and_english_a_point():
    assert (PL.score(4.25, "ces"), EN.score(4.25, "ces")) == ("4,3", "4.3")
    assert (PL.number(12345.67, 1), EN.number(12345.67, 1)) == ("12\u00a0345,7", "12,345.7")
    assert (PL.number(2500), EN.number(2500)) == ("2\u00a0500", "2,500")


def test_scores_round_half_away_from_zero_with_a_true_minus_and_a_sign_for_changes():
    assert PL.score(-4.5, "nps") == "\u22125"
    assert EN.score(28.5, "nps") == "29"
    assert EN.score(87.4, "csat", sign=True) == "+87%"
    assert EN.score(0.2, "nps", sign=True) == "0"
    assert EN.score(None, "nps") == "–"


def test_an_interval_reads_as_people_say_it():
    assert PL.interval(-5.2, 12.6, "nps") == "od \u22125 do 13"
    assert EN.interval(-5.2, 12.6, "nps") == "\u22125 to 13"
    assert PL.interval(3.96, 4.41, "ces") == "od 4,0 do 4,4"
    assert EN.interval(80, 91, "csat") == "80 to 91%"
    assert EN.interval(None, 3, "nps") == "–"


def test_p_values_shares_and_dates():
    assert (PL.p_value(0.0312), EN.p_value(0.0312), EN.p_value(0.00001)) == ("p = 0,031", "p = 0.031", "p < 0.001")
    assert (PL.percent(0.0005), EN.percent(0.125)) == ("0,05%", "12.5%")
    assert (PL.day(date(2026, 8, 23)), EN.day("2026-08-23")) == ("23.08.2026", "23 Aug 2026")
    instant = datetime(2026, 8, 23, 12, 5, tzinfo=UTC)
    assert PL.moment(instant, "Europe/Warsaw") == "23.08.2026, 14:05"
    assert EN.moment(instant, "Europe/London") == "23 Aug 2026, 13:05"


def test_trend_periods_in_full_and_on_the_axis():
    assert PL.period("month", "2026-11-01", "2026-11-30") == "listopad 2026"
    assert EN.period("week", "2026-11-09", "2026-11-15") == "9 Nov 2026 – 15 Nov 2026"
    assert PL.period("day", "2026-11-09", "2026-11-09") == "09.11.2026"
    assert (PL.tick("day", "2026-11-09"), EN.tick("week", "2026-11-09")) == ("09.11", "9 Nov")
    assert (PL.tick("month", "2026-11-01"), EN.tick("month", "2026-11-01")) == ("11.2026", "Nov 2026")


def test_counts_take_the_polish_plural_forms():
    weeks = {"one": "tydzień", "few": "tygodnie", "many": "tygodni"}
    assert [PL.count(n, weeks) for n in (1, 3, 8, 12, 22)] == [
        "1 tydzień",
        "3 tygodnie",
        "8 tygodni",
        "12 tygodni",
        "22 tygodnie",
    ]
    assert [EN.count(n, {"one": "week", "many": "weeks"}) for n in (1, 8)] == ["1 week", "8 weeks"]
