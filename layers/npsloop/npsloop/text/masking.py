"""Personal-data masking of a free-text comment, before anything else sees it (issue 12 §1).

`mask(text)` finds e-mail addresses, phone numbers (Polish in every common format, UK, international),
PESEL numbers (checksum), IBANs with or without spaces (checksum), payment card numbers (Luhn), Polish
and UK street addresses and person names (Polish and English, inflected, after honorifics and cues),
and replaces each with a typed placeholder: `[email]`, `[phone]`, `[pesel]`, `[iban]`, `[card_number]`,
`[address]`, `[person_name]`. It never masks order, invoice, parcel or till numbers, prices, dates,
store names or brands. The result carries the masked text and every (type, exact substring) it masked.

Pure functions over vendored data (`data/*.txt`); the lexicon is built once per process. The number
libraries (phonenumbers, python-stdnum) are imported where a number is checked: a comment without a
digit never loads them (a function's cold start pays for them at its first comment with one).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

PII_TYPES = ("email", "phone", "person_name", "pesel", "iban", "address", "card_number")


@dataclass(frozen=True)
class PiiMatch:
    type: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class MaskedText:
    text: str
    pii: tuple[PiiMatch, ...]


# --- structured types ---------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}")
_IBAN = re.compile(r"(?<![\w])[A-Za-z]{2}[ ]?\d{2}(?:[ ]?[A-Za-z0-9]{4}){2,7}(?:[ ]?[A-Za-z0-9]{1,3})?(?![\w])")
# A Polish account number (NRB) is an IBAN without its "PL": 26 digits, often grouped 2 + 6 x 4.
_NRB = re.compile(r"(?<![\w])\d{2}(?:[ ]?\d{4}){6}(?![\w])")
_CARD = re.compile(r"(?<![\d])\d(?:[ \-]?\d){12,18}(?![\d])")
_DIGIT = re.compile(r"\d")  # any Unicode digit, as phonenumbers reads them
_PESEL = re.compile(r"(?<![\d])\d{11}(?![\d])")
# UK numbers that libphonenumber treats as unassigned (Ofcom's drama ranges 07700 900xxx, 0161 496 0xxx)
# are still someone's way of writing a phone number.
_UK_PHONE = re.compile(r"(?<![\d+])(?:\+44[ ]?(?:\(0\)[ ]?)?|0)\d{2,4}[ \-]?\d{3,4}[ \-]?\d{3,4}(?![\d])")
_PL_PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)48[ \-]?)?\d{3}[ \-]?\d{3}[ \-]?\d{3}(?![\d])")

# --- what must never be masked -------------------------------------------------------------------

_ORDER_CUE = (
    r"(?:zam(?:[óo]wieni\w*)?|order\w*|ord|nr\s+zam\w*|numer\s+zam\w*|paragon\w*|faktur\w*|fv|ref(?:erence)?"
    r"|tracking|przesy[łl]k\w*|list\w*\s+przewozow\w*|awb|sku|rma|reklamacj\w*|zwrot\w*|case|ticket"
    r"|zg[łl]oszeni\w*|invoice|receipt|parcel|package|paczk\w*|kas\w*|till|checkout|register|lane|bramk\w*"
    r"|kod\w*|code|voucher|bon\w*|karta\s+lojalno\w*|loyalty\s+card|membership|konsignment|consignment"
    r"|shipment|przesy[łl]ka|delivery|dostaw\w*|transakcj\w*|transaction|booking|rezerwacj\w*|art\.?|item)"
)
_ORDER = re.compile(
    _ORDER_CUE + r"\s*(?:nr\.?|no\.?|number|numer|id|#|:|-)?\s*[:#]?\s*((?:[A-Z]{1,5}[\-/]?)?\d[\dA-Z\-/]{2,})",
    re.IGNORECASE,
)
_HASH_NUMBER = re.compile(r"#\s?[A-Z0-9\-]*\d{3,}[A-Z0-9\-]*")
_CODE = re.compile(r"\b[A-Z]{2,5}[\-/]\d[\d\-/]{3,}\b|\b[A-Z]{3,5}\d{5,}\b")
_DATE = re.compile(r"\b\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}\b|\b\d{4}[./\-]\d{1,2}[./\-]\d{1,2}\b")
_PRICE = re.compile(
    r"(?:[£€$]\s?\d[\d,. ]*\d"
    r"|\d{1,3}(?:[ \u00a0]\d{3})*(?:[.,]\d{1,2})?\s?(?:zł|zl|pln|złotych|eur|euro|€|gbp|£|p\b|pounds))",
    re.IGNORECASE,
)
_PHONE_CUE = re.compile(
    r"(?:tel\.?|telefon\w*|phone|mobile|komórk\w*|komork\w*|numer\s+telefonu|zadzwo\w*|dzwoni\w*|call\w*|ring|"
    r"contact|kontakt\w*|sms|whatsapp|text\s+me|(?:m[óo]j|my|the)\s+(?:numer|number|nr)|number\s+is|numer\s+to"
    r"|nr\.?\s+tel\w*)\W*$",
    re.IGNORECASE,
)

# --- addresses -----------------------------------------------------------------------------------

_UP = "A-ZĄĆĘŁŃÓŚŹŻ"
_LO = "a-ząćęłńóśźż"
_WORD = rf"[{_UP}{_LO}0-9][{_UP}{_LO}0-9\-'’.]*"
_CITY = rf"[{_UP}][{_LO}]+(?:[ \-][{_UP}][{_LO}]+)?"
_HOUSE = r"\d{1,4}[A-Za-z]?(?:\s?/\s?\d{1,4}[A-Za-z]?)?(?:\s?(?:m\.?|lok\.?|mieszk\.?)\s?\d{1,4})?"
_POSTCODE_PL = rf"\d{{2}}-\d{{3}}(?:\s+{_CITY})?"
_PL_STREET_PREFIX = r"\b(?:ul\.|ulicy|ulica|ulicę|ulice|al\.|alei|aleja|aleję|os\.|osiedle|osiedlu|pl\.|placu|plac)\s*"
_PL_STREET = re.compile(
    rf"{_PL_STREET_PREFIX}(?:{_WORD}\s+){{0,3}}?{_WORD}\s+{_HOUSE}(?:,?\s*{_POSTCODE_PL})?(?![\w/])"
)
# a street named without its number ("na ul. Długiej"): the name's capitalised words only
_PL_STREET_NAME = re.compile(
    rf"{_PL_STREET_PREFIX}(?:\d{{1,2}}\s+)?[{_UP}][{_LO}]+(?:\s+[{_UP}][{_LO}]+){{0,2}}(?:\s+[IVX]+\b)?"
)
_PL_BARE_ADDRESS = re.compile(rf"\b(?:[{_UP}][{_LO}]+\s+){{1,3}}{_HOUSE},?\s*{_POSTCODE_PL}")
_PL_POSTCODE_CITY = re.compile(rf"(?<![\d\-])\d{{2}}-\d{{3}}\s+{_CITY}")
_UK_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})"
_UK_STREET_TYPES = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Way|Place|Pl|Court|Ct|Crescent|Cres|Gardens|Gdns"
    r"|Terrace|Square|Sq|Hill|Grove|Park|Row|Mews|View|Walk|Rise|Green|Parade|Boulevard|Yard|Wharf|Quay)"
)
_UK_STREET = re.compile(
    r"(?:\b(?:Flat|Apartment|Apt|Unit)\s+\d+[A-Za-z]?,?\s+)?"
    r"\b\d{1,4}[A-Za-z]?,?\s+(?:[A-Z][a-z'’]+\s+){1,3}" + _UK_STREET_TYPES + r"\b\.?"
    r"(?:,\s*[A-Z][a-z]+(?:[ \-][A-Z][a-z]+)?(?=\s*,?\s*" + _UK_POSTCODE + r"|\s*[.,;!?)]|\s*$))?"
    r"(?:,?\s*" + _UK_POSTCODE + r"\b)?"
)
_UK_POSTCODE_ALONE = re.compile(r"\b" + _UK_POSTCODE + r"\b")

# --- names ---------------------------------------------------------------------------------------

_PL_HONORIFIC = r"(?:pan|pani|pana|panu|panem|panią|panie|pań|panią|panny|panna|panience)"
_EN_HONORIFIC = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Sir|Madam)\.?"
_CUES = (
    # a word after one of these, capitalised or found in the lexicon, is a person's name
    r"kasjer\w*|ekspedient\w*|sprzedawc\w*|sprzedawczyni|konsultant\w*|kurier\w*|pracownic\w*|pracownik\w*"
    r"|doradc\w*|doradczyni|kierowniczk\w*|kierownik\w*|menad[żz]er\w*|mened[żz]er\w*|szef\w*|koleg\w*|kierowc\w*"
    r"|obs[łl]ugiwa[łl]\w*(?:\s+mnie)?|nazywa\s+si[ęe]|na\s+imi[ęe]|o\s+imieniu|imieniem|podpisan\w*|dzi[ęe]kuj[ęe]"
    r"|cashier|assistant|manager|driver|courier|agent|advisor|adviser|colleague|supervisor|staff\s+member"
    r"|member\s+of\s+staff|rep|representative|ask\s+for|asked\s+for|speak\s+to|spoke\s+to|spoke\s+with|talk\s+to"
    r"|talked\s+to|served\s+by|helped\s+by|named|name\s+is|name\s+was|name's|thanks\s+to|thank\s+you|thanks"
)
_CUE_BEFORE = re.compile(rf"(?:\b(?:{_PL_HONORIFIC}|{_CUES})|\b{_EN_HONORIFIC})\s*[,:]?\s*$", re.IGNORECASE)
_HONORIFIC_BEFORE = re.compile(rf"(?:\b{_PL_HONORIFIC}|\b{_EN_HONORIFIC})\s*$", re.IGNORECASE)
_TOKEN = re.compile(rf"[{_UP}{_LO}A-Za-z][{_UP}{_LO}A-Za-z'’\-]*")
_SURNAME_SUFFIX = re.compile(
    r"(?:ski|ska|cki|cka|dzki|dzka)(?:ego|emu|m|ej|ą|iej|iego|iemu|im)?$"
    r"|(?:wicz|czyk|czak|wiak|niak|szyn)(?:a|owi|em|iem|u|owa|ówna|owej|ową)?$"
)


@dataclass(frozen=True)
class _NameLexicon:
    names: frozenset[str]  # casefolded forms that are names wherever they appear capitalised
    ambiguous: frozenset[str]  # casefolded forms that are names only next to a cue or a surname
    # forms that are also everyday words (Ale, Marka): a name only right after an honorific ("pana Marka")
    after_honorific: frozenset[str]
    brands: tuple[re.Pattern[str], ...]


def _fold(word: str) -> str:
    """The word without Polish diacritics (Łukasz -> Lukasz), as customers often type it."""
    return "".join(
        c
        for c in unicodedata.normalize("NFKD", word.replace("ł", "l").replace("Ł", "L"))
        if not unicodedata.combining(c)
    )


_SOFTEN = {"k": "c", "g": "dz", "t": "ci", "d": "dzi", "r": "rz", "ł": "l", "s": "si", "z": "zi", "n": "ni"}


def polish_forms(name: str, gender: str) -> set[str]:
    """A Polish first name with the forms of its seven cases, by the regular declension rules.

    It over-generates on purpose (a form nobody uses costs nothing, a missing one leaks a name)."""
    forms = {name}
    if name.endswith("a"):  # Anna, Kasia, Maja, Monika, Kuba
        stem = name[:-1]
        forms |= {stem + "ę", stem + "ą", stem + "o", stem + "u"}
        if stem.endswith("i"):  # Kasia -> Kasi, Julia -> Julii
            forms |= {stem, stem + "i"}
        elif stem.endswith("j"):  # Maja -> Mai, Patrycja -> Patrycji
            forms |= {stem[:-1] + "i", stem + "i"}
        else:
            last = stem[-1]
            forms |= {stem + ("i" if last in "kglj" else "y")}
            soft = _SOFTEN.get(last)
            if soft is not None:
                forms.add(stem[:-1] + soft + "e")  # Monika -> Monice, Marta -> Marcie
            elif last == "l":
                forms |= {stem + "i"}
            else:
                forms.add(stem + "ie")  # Ewa -> Ewie
        return forms
    if gender == "f":
        return forms
    if name.endswith("siek"):  # Krzysiek -> Krzyśka
        stems = [name[:-4] + "śk", name[:-4] + "sk"]
    elif name.endswith("ek"):  # Tomek -> Tomka
        stems = [name[:-2] + "k"]
    elif name.endswith("eł"):  # Paweł -> Pawła
        stems = [name[:-2] + "ł"]
    elif name.endswith("ś"):  # Jaś -> Jasia
        stems = [name[:-1] + "si"]
    elif name.endswith(("i", "y")):  # Antoni -> Antoniego, Jerzy -> Jerzego
        base = name[:-1] if name.endswith("y") else name
        return forms | {base + "ego", base + "emu", name + "m", base + "m"}
    elif name.endswith("er"):  # Aleksander -> Aleksandra
        stems = [name, name[:-2] + "r"]
    else:
        stems = [name]
    for stem in stems:
        forms |= {stem + "a", stem + "owi", stem + "em", stem + "iem", stem + "u", stem + "ie", stem + "e"}
        soft = _SOFTEN.get(stem[-1])
        if soft is not None:
            forms.add(stem[:-1] + soft + "e")  # Piotr -> Piotrze, Michał -> Michale
    return forms


def _data_lines(name: str) -> list[str]:
    text = resources.files("npsloop.text").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@cache
def _not_names() -> frozenset[str]:
    return frozenset(w.casefold() for line in _data_lines("not_names.txt") for w in line.split())


@cache
def _lexicon() -> _NameLexicon:
    names: set[str] = set()
    ambiguous: set[str] = set()
    for line in _data_lines("names_pl.txt"):
        base, gender = line.split()
        for form in polish_forms(base, gender):
            names |= {form.casefold(), _fold(form).casefold()}
    for line in _data_lines("surnames_pl.txt"):
        word, everyday = line.rstrip("?"), line.endswith("?")
        forms = polish_forms(word, "f" if word.endswith("a") else "m")
        target = ambiguous if everyday else names
        for form in forms:
            target |= {form.casefold(), _fold(form).casefold()}
    for line in _data_lines("names_en.txt") + _data_lines("surnames_en.txt"):
        if line.endswith("?"):
            ambiguous.add(line[:-1].casefold())
        else:
            names.add(line.casefold())
    brands = tuple(
        re.compile(r"(?<!\w)" + re.escape(b).replace(r"\ ", r"\s+") + r"(?!\w)", re.IGNORECASE)
        for b in _data_lines("brands.txt")
    )
    return _NameLexicon(frozenset(names - _not_names()), frozenset(ambiguous), frozenset(names & _not_names()), brands)


# --- the masking ---------------------------------------------------------------------------------


class _Spans:
    def __init__(self) -> None:
        self.found: list[PiiMatch] = []
        self.protected: list[tuple[int, int]] = []

    def free(self, start: int, end: int, *, respect_protected: bool = True) -> bool:
        taken = [(m.start, m.end) for m in self.found]
        if respect_protected:
            taken += self.protected
        return all(end <= s or start >= e for s, e in taken)

    def add(self, kind: str, text: str, start: int, end: int, *, respect_protected: bool = True) -> bool:
        while end > start and text[end - 1] in " ,.;:-/":
            end -= 1
        if end <= start or not self.free(start, end, respect_protected=respect_protected):
            return False
        self.found.append(PiiMatch(kind, text[start:end], start, end))
        return True


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def _is_iban(candidate: str) -> bool:
    """The ISO 13616 mod-97 check only: a bank's own check digit inside the BBAN is not the customer's concern."""
    compact = re.sub(r"\s", "", candidate).upper()
    if not 15 <= len(compact) <= 34:
        return False
    from stdnum import iban as stdnum_iban
    from stdnum.exceptions import ValidationError

    try:
        stdnum_iban.validate(compact, check_country=False)
    except ValidationError:
        return False
    return True


def _phone_context_says_phone(text: str, start: int) -> bool:
    return bool(_PHONE_CUE.search(text[max(0, start - 30) : start]))


def _find_structured(text: str, spans: _Spans) -> None:
    for m in _EMAIL.finditer(text):
        spans.add("email", text, m.start(), m.end(), respect_protected=False)
    for m in _IBAN.finditer(text):
        # the optional short last group may have caught the next word ("PL61...2874 i nic")
        for candidate in (m.group(), m.group().rsplit(" ", 1)[0]):
            if _is_iban(candidate):
                spans.add("iban", text, m.start(), m.start() + len(candidate), respect_protected=False)
                break
    for m in _NRB.finditer(text):
        if _is_iban("PL" + _digits(m.group())):
            spans.add("iban", text, m.start(), m.end(), respect_protected=False)
    if not _DIGIT.search(text):
        return  # no card, PESEL or phone number (and the patterns below need digits too)
    import phonenumbers
    from stdnum import luhn
    from stdnum.pl import pesel as stdnum_pesel

    for m in _CARD.finditer(text):
        digits = _digits(m.group())
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits) and not _phone_context_says_phone(text, m.start()):
            spans.add("card_number", text, m.start(), m.end())
    for m in _PESEL.finditer(text):
        if stdnum_pesel.is_valid(m.group()):
            spans.add("pesel", text, m.start(), m.end())
    for region in ("PL", "GB"):
        for pm in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            spans.add("phone", text, pm.start, pm.end, respect_protected=_protected_unless_cued(text, pm.start))
    for pattern in (_UK_PHONE, _PL_PHONE):
        for m in pattern.finditer(text):
            spans.add("phone", text, m.start(), m.end(), respect_protected=_protected_unless_cued(text, m.start()))


def _protected_unless_cued(text: str, start: int) -> bool:
    """A number right after 'tel.' or 'call me on' is a phone even where an order cue came earlier."""
    return not _phone_context_says_phone(text, start)


def _find_addresses(text: str, spans: _Spans) -> None:
    cities = _cities()
    for pattern in (_PL_STREET, _PL_STREET_NAME, _PL_BARE_ADDRESS, _UK_STREET, _PL_POSTCODE_CITY, _UK_POSTCODE_ALONE):
        for m in pattern.finditer(text):
            end = m.end()
            # the town written after the street without a postcode: "os. Tysiąclecia 45/12 Katowice"
            town = cities.match(text, end)
            if town is not None and pattern in (_PL_STREET, _UK_STREET):
                end = town.end()
            spans.add("address", text, m.start(), end)


@cache
def _cities() -> re.Pattern[str]:
    names = sorted(_data_lines("cities.txt"), key=len, reverse=True)
    return re.compile(r",?\s*(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w\-])")


def _capitalised(word: str) -> bool:
    return (word[:1].isupper() and not word.isupper()) or (len(word) > 1 and word.istitle())


def _find_names(text: str, spans: _Spans) -> None:
    lex = _lexicon()
    not_names = _not_names()
    tokens = [m for m in _TOKEN.finditer(text) if spans.free(m.start(), m.end())]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        word = tok.group().rstrip("'’")
        key = word.casefold()
        if word.endswith(("'s", "’s")):
            key = word[:-2].casefold()
        before = text[max(0, tok.start() - 40) : tok.start()]
        cued = bool(_CUE_BEFORE.search(before))
        honorific = bool(_HONORIFIC_BEFORE.search(before))
        known = key in lex.names or _fold(key) in lex.names
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        adjacent_next = (
            nxt is not None
            and re.fullmatch(r"\s+", text[tok.end() : nxt.start()]) is not None
            and _capitalised(nxt.group())
            and nxt.group().casefold() not in not_names
        )
        capitalised = _capitalised(word)
        sentence_start = not before.strip() or before.rstrip()[-1] in ".!?\n"
        is_name = (honorific and capitalised and key in lex.after_honorific) or (
            key not in not_names
            and (
                (known and (capitalised or cued) and (cued or not _IN_PLACE_BEFORE.search(before)))
                or (key in lex.ambiguous and capitalised and (cued or adjacent_next))
                or ((honorific or cued) and capitalised)
                or (
                    capitalised
                    and bool(_SURNAME_SUFFIX.search(key))
                    and not _place_before(before)
                    and (not sentence_start or adjacent_next)
                )
            )
        )
        if not is_name:
            i += 1
            continue
        end = tok.end()
        j = i + 1
        # a surname (or two) right after the first name belongs to it: "John Smith", "Kasia Nowak-Kowalska"
        while j < len(tokens) and j <= i + 2:
            t = tokens[j]
            if (
                re.fullmatch(r"\s+", text[end : t.start()])
                and _capitalised(t.group())
                and t.group().casefold() not in not_names
            ):
                end = t.end()
                j += 1
            else:
                break
        start = tok.start()
        initial = _INITIAL_BEFORE.search(text, 0, start)
        if initial is not None and spans.free(initial.start(), start):
            start = initial.start()  # "P Wilson", "J. Nowak"
        span_text = text[start:end]
        if not any(b.search(span_text) or _inside_brand(b, text, start, end) for b in lex.brands):
            spans.add("person_name", text, start, end)
        i = j


# a first name's initial (not a one-letter word of either language: A, I, O, U, W, Z)
_INITIAL_BEFORE = re.compile(r"(?<![\w.])[B-HJ-NP-TVXY]\.?\s$")


def _inside_brand(brand: re.Pattern[str], text: str, start: int, end: int) -> bool:
    return any(m.start() <= start and end <= m.end() for m in brand.finditer(text))


_PLACE_BEFORE = re.compile(
    r"(?:\b(?:galeri\w*|pasa[żz]\w*|centrum|ulic\w*|ul\.|al\.|alej\w*|plac\w*|pl\.|os\.|osiedl\w*|park\w*|rondo|"
    r"ronda|dworz\w*|dworc\w*|most\w*|sklep\w*|na|przy|w|we|z|ze|do|od|woj\.?|województw\w*|gmin\w*|powiat\w*))\s+$",
    re.IGNORECASE,
)


# "na Kazimierzu", "w Marcinkowicach": a first name's form right after these is a place (a name is cued instead)
_IN_PLACE_BEFORE = re.compile(r"\b(?:na|w|we|przy)\s+$", re.IGNORECASE)


def _place_before(before: str) -> bool:
    return bool(_PLACE_BEFORE.search(before))


# Grouped the way people write phone numbers (601-234-567, 07825 334 912, (12) 345-67-89, +48 ...): a phone even
# after a word such as "delivery:" that usually introduces an order or parcel number. Ungrouped digits stay orders.
_GROUPED_PHONE = re.compile(
    r"(?:\+|00)(?:48|44|49|353|1)[ \-]?\d"
    r"|\d{3}[ \-]\d{3}[ \-]\d{3}(?![\d\-/])"
    r"|\(?\d{2}\)?[ \-]\d{3}[ \-]\d{2}[ \-]\d{2}(?![\d\-/])"
    r"|0\d{3,4}[ \-]\d{3}[ \-]?\d{3,4}(?![\d\-/])"
    r"|0\d{2}[ \-]\d{4}[ \-]\d{4}(?![\d\-/])"
)


_NUMBER_MARK = re.compile(r"\b(?:nr|no|number|numer|id|ref)\b|#", re.IGNORECASE)


def _protect(text: str, spans: _Spans) -> None:
    for m in _ORDER.finditer(text):
        marked = _NUMBER_MARK.search(text, m.start(), m.start(1))  # "order no. 07911 123456" is an order number
        if marked or not _GROUPED_PHONE.match(text, m.start(1)):
            spans.protected.append(m.span(1))
    for pattern in (_HASH_NUMBER, _CODE, _DATE, _PRICE):
        for m in pattern.finditer(text):
            spans.protected.append(m.span())
    lex = _lexicon()
    for brand in lex.brands:
        for m in brand.finditer(text):
            spans.protected.append(m.span())


def mask(text: str) -> MaskedText:
    """The comment with every piece of personal data replaced by its typed placeholder."""
    spans = _Spans()
    _protect(text, spans)
    _find_structured(text, spans)
    _find_addresses(text, spans)
    _find_names(text, spans)
    found = sorted(spans.found, key=lambda m: m.start)
    parts: list[str] = []
    cursor = 0
    for match in found:
        parts.append(text[cursor : match.start])
        parts.append(f"[{match.type}]")
        cursor = match.end
    parts.append(text[cursor:])
    return MaskedText("".join(parts), tuple(found))
