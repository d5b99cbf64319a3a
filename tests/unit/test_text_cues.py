"""The built-in model's lexical cues (npsloop/text/cues.py): negation flips a cue, diacritics do not matter,
a praised and a criticised clause show as both, and a word naming a theme lights that theme's feature."""

import pytest

from npsloop.text.cues import N_POLARITY, cue_features, fold
from npsloop.text.features import clauses

THEMES = ("delivery", "price", "staff", "returns_refunds")


def features(text: str) -> dict[str, float]:
    row = cue_features(text, clauses(text), THEMES)
    names = ["pos", "neg", "both_words", "both_clauses", "balance", "contrast", "irony", "irony_neg"]
    return dict(zip(names, row[:8].tolist(), strict=True)) | dict(zip(THEMES, row[N_POLARITY:].tolist(), strict=True))


@pytest.mark.parametrize(
    ("text", "positive"),
    [
        ("Polecam", True),
        ("Nie polecam", False),
        ("bez problemu", True),
        ("helpful", True),
        ("not helpful at all", False),
        ("no issues", True),
        ("nie musiałam długo czekać", True),
        ("nie musialam dlugo czekac", True),
    ],
)
def test_a_negated_cue_counts_for_the_other_side(text, positive):
    f = features(text)
    assert (f["balance"] > 0) is positive and (f["balance"] < 0) is not positive


def test_a_praised_and_a_criticised_clause_show_as_both():
    mixed = features("Kurtka ładna i ciepła, tylko cena z kosmosu")
    assert mixed["both_clauses"] == 1.0 and mixed["contrast"] == 1.0
    praise = features("Kurtka ładna i ciepła, polecam")
    assert praise["both_clauses"] == 0.0 and praise["neg"] == 0.0


def test_a_word_naming_a_theme_lights_its_feature_with_or_without_diacritics():
    assert fold("Świetna Łódź") == "swietna lodz"
    f = features("Przesyłka doszła, zwrot pieniędzy też")
    assert (f["delivery"], f["returns_refunds"], f["price"]) == (1.0, 1.0, 0.0)
    f = features("przesylka doszla, zwrot pieniedzy tez")
    assert (f["delivery"], f["returns_refunds"], f["price"]) == (1.0, 1.0, 0.0)
    assert features("Pani [person_name] bardzo miła")["staff"] == 1.0


@pytest.mark.parametrize(
    ("text", "positive"),
    [
        ("Decent enough, would use again", True),  # "would use again" over "again"
        ("Returns were hassle-free", True),  # "hassle-free" over "hassle"
        ("cheap and cheerful", True),
        ("Never again.", False),  # "again" keeps its side after a negator
        ("Won't be ordering again", False),
        ("Arrived when they said. Can't ask for more.", True),
    ],
)
def test_the_longest_overlapping_cue_counts_and_some_keep_their_side_after_a_negator(text, positive):
    f = features(text)
    assert (f["balance"] > 0) is positive and (f["balance"] < 0) is not positive
