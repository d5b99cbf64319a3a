"""Personal-data masking (issue 12 §1): every type planted, Polish and English, and what must stay."""

import pytest

from npsloop.text.masking import mask, polish_forms

PLANTED = [
    ("Proszę o kontakt: +48 601 234 567", "phone", "+48 601 234 567"),
    ("oddzwońcie na 601-234-567 po 16", "phone", "601-234-567"),
    ("mój tel 601234567", "phone", "601234567"),
    ("infolinia (22) 123-45-67 nie odbiera", "phone", "(22) 123-45-67"),
    ("call me on 07700 900123", "phone", "07700 900123"),
    ("my number is +44 20 7946 0958", "phone", "+44 20 7946 0958"),
    ("ring +49 30 12345678 please", "phone", "+49 30 12345678"),
    ("mail jan.kowalski@wp.pl", "email", "jan.kowalski@wp.pl"),
    ("Mój PESEL 44051401359 do reklamacji", "pesel", "44051401359"),
    ("zwrot na PL61 1090 1014 0000 0712 1981 2874 i nic", "iban", "PL61 1090 1014 0000 0712 1981 2874"),
    ("zwrot na 61109010140000071219812874", "iban", "61109010140000071219812874"),
    ("refund to GB29 NWBK 6016 1331 9268 19", "iban", "GB29 NWBK 6016 1331 9268 19"),
    ("z karty 4111 1111 1111 1111 pobrali dwa razy", "card_number", "4111 1111 1111 1111"),
    ("card 5555-5555-5555-4444 was charged twice", "card_number", "5555-5555-5555-4444"),
    ("Mieszkam: ul. Długa 5/12, 00-238 Warszawa", "address", "ul. Długa 5/12, 00-238 Warszawa"),
    ("paczka na al. Jana Pawła II 23 trafiła do sąsiada", "address", "al. Jana Pawła II 23"),
    ("it was meant to go to 14 Station Road, Leeds LS1 4DY", "address", "14 Station Road, Leeds LS1 4DY"),
    ("Pani Kasia z kasy była przemiła", "person_name", "Kasia"),
    ("zachowanie pana Tomka pozostawia wiele do życzenia", "person_name", "Tomka"),
    ("pan Kowalski z kasy był niemiły", "person_name", "Kowalski"),
    ("ask for John Smith, she is brilliant", "person_name", "John Smith"),
    ("Mr Patel sorted my refund", "person_name", "Patel"),
    ("dziękuję Pawłowi i pani Monice", "person_name", "Pawłowi"),
    ("kasjerka Ania byla niemila", "person_name", "Ania"),
    ("Lukasz z obslugi pomogl", "person_name", "Lukasz"),
    # grouped like a phone number: a phone even after a word that usually introduces a parcel number
    ("Proszę dzwonić przed dostawą: 698-765-432.", "phone", "698-765-432"),
    ("Please ring before delivery: 07825 334 912.", "phone", "07825 334 912"),
    # surnames on their own, an initial, a first name that is also an everyday word after an honorific
    ("paczkę odebrał ktoś inny, podpisany jakiś Nowak", "person_name", "Nowak"),
    ('someone else signed for it, a "P Wilson", no idea who', "person_name", "P Wilson"),
    ("proszę porozmawiać z panem Markiem, chodzi o pana Marka z magazynu", "person_name", "Marka"),
    # the country code written apart, the town after a street without a postcode
    ("zwrot na PL 61 1090 1014 0000 0712 1981 2874 proszę", "iban", "PL 61 1090 1014 0000 0712 1981 2874"),
    ("mieszkam os. Tysiąclecia 45/12 Katowice", "address", "os. Tysiąclecia 45/12 Katowice"),
]


@pytest.mark.parametrize(("text", "kind", "value"), PLANTED)
def test_every_planted_type_is_masked_with_its_exact_substring(text, kind, value):
    result = mask(text)
    assert (kind, value) in [(m.type, m.text) for m in result.pii]
    assert value not in result.text
    assert f"[{kind}]" in result.text


@pytest.mark.parametrize(
    "text",
    [
        "zamówienie nr 512345678 nie dotarło",
        "order 4829133745 still hasn't arrived",
        "nr zamówienia ZAM-2026-118342, reklamacja do zamówienia #4829133",
        "zapłaciłam 1 299,99 zł, zakupy z dnia 12.03.2026, przy kasie nr 3",
        "paid £45.99 on 2026-11-30 at till 4",
        "Bought Tommy Hilfiger jeans at John Lewis and Nike Air Max",
        "Sklep w Galerii Krakowskiej, marka Reserved, buty Nike",
        "May is a good month, will be back",
        "Przesyłka 0000123456789PL doszła ekspresowo",
        "Błyskawiczna dostawa! Zwrot bezpłatny, to plus. Ale ceny po promocji wyższe.",
        "w przymierzalni na Kazimierzu był bałagan",
        "Damska kurtka super, Marka godna polecenia",
        "Price was fair and Green is my favourite colour",
        "order no. 07911 123456 still missing, mieszkam w Krakowie",
    ],
)
def test_order_numbers_prices_dates_tills_stores_and_brands_are_not_masked(text):
    result = mask(text)
    assert result.pii == ()
    assert result.text == text


def test_the_masked_text_keeps_everything_else_and_lists_matches_in_order():
    result = mask("Pani Kasia, tel. 601 234 567, mail a@b.pl")
    assert result.text == "Pani [person_name], tel. [phone], mail [email]"
    assert [m.type for m in result.pii] == ["person_name", "phone", "email"]


def test_polish_first_names_are_declined_by_rule():
    assert {"Kasi", "Kasię", "Kasią", "Kasiu"} <= polish_forms("Kasia", "f")
    assert {"Tomka", "Tomkowi", "Tomkiem"} <= polish_forms("Tomek", "m")
    assert {"Pawła", "Pawłowi", "Pawle"} <= polish_forms("Paweł", "m")
    assert {"Monice", "Moniki", "Monikę"} <= polish_forms("Monika", "f")
