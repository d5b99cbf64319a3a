"""Compose the labelled comments (data/text/comments.jsonl) from the hand-written clause banks.

    python tools/text_data/compose_comments.py            # rewrites data/text/comments.jsonl

Every clause (clauses_pl.txt, clauses_en.txt) carries its theme and polarity; a comment joins one to three
clauses, gets typos, missing diacritics, emoji or lower case the way customers write, and sometimes planted
personal data (pii) and things that must stay (order numbers, prices, dates, till numbers, brands). Its
labels follow from its clauses by the rules of docs/labelling.md. The split is by CLAUSE: 30% of the
clauses (chosen by a hash of their text) only ever appear in dev comments, so the dev metrics measure
phrasings the model never saw. Fixed seed: the file is reproducible.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE.parents[1] / "data" / "text" / "comments.jsonl"
COUNTS = {"pl": 760, "en": 560}


@dataclass(frozen=True)
class Clause:
    theme: str | None
    polarity: str  # pos | neg | neu
    text: str
    pii: tuple[tuple[str, str], ...] = ()
    keep: tuple[tuple[str, str], ...] = ()


def load(lang: str) -> list[Clause]:
    out = []
    for line in (HERE / f"clauses_{lang}.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        head, text = line.split("|", 1)
        theme, polarity = head.split()
        out.append(Clause(None if theme == "-" else theme, polarity, text.strip()))
    return out


def is_dev(text: str) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % 10 < 3


# --- personal data and the things that must not be masked ----------------------------------------


def pesel(rng: random.Random) -> str:
    year, month, day = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
    mm = month + (20 if year >= 2000 else 0)
    digits = f"{year % 100:02d}{mm:02d}{day:02d}{rng.randint(0, 9999):04d}"
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    check = (10 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 10) % 10
    return digits + str(check)


def iban(rng: random.Random, country: str) -> str:
    if country == "PL":
        bban = "".join(str(rng.randint(0, 9)) for _ in range(24))
    else:
        bban = rng.choice(["NWBK", "BARC", "HBUK", "LOYD"]) + "".join(str(rng.randint(0, 9)) for _ in range(14))
    rearranged = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    return f"{country}{98 - number % 97:02d}{bban}"


def spaced(s: str, group: int = 4) -> str:
    return " ".join(s[i : i + group] for i in range(0, len(s), group))


def card(rng: random.Random) -> str:
    body = rng.choice(["4", "51", "52", "55", "2221"]) + "".join(str(rng.randint(0, 9)) for _ in range(14))
    body = body[:15]
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    number = body + str((10 - total % 10) % 10)
    style = rng.random()
    return spaced(number) if style < 0.5 else number if style < 0.8 else "-".join(spaced(number).split())


def phone_pl(rng: random.Random) -> str:
    a, b, c = (
        rng.choice("5678") + f"{rng.randint(0, 99):02d}",
        f"{rng.randint(0, 999):03d}",
        f"{rng.randint(0, 999):03d}",
    )
    return rng.choice(
        [
            f"+48 {a} {b} {c}",
            f"{a}-{b}-{c}",
            f"{a}{b}{c}",
            f"{a} {b} {c}",
            f"+48{a}{b}{c}",
            f"0048 {a} {b} {c}",
            f"(22) {b}-{c[:2]}-{rng.randint(10, 99)}",
            f"12 {b} {c[:2]} {rng.randint(10, 99)}",
        ]
    )


def phone_en(rng: random.Random) -> str:
    n = rng.randint(100, 999)
    return rng.choice(
        [
            f"07700 900{n}",
            f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
            f"+44 7{rng.randint(100, 999)} {rng.randint(100, 999)} {n}",
            f"0161 496 0{n}",
            f"020 7946 0{n}",
            f"+49 30 {rng.randint(1000000, 9999999)}",
            f"+1 212 555 0{n}",
            f"+353 1 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            f"+48 {rng.choice('5678')}{rng.randint(10, 99)} {rng.randint(100, 999)} {n}",
        ]
    )


PL_FEMALE = [
    "Kasia",
    "Ania",
    "Agnieszka",
    "Monika",
    "Magda",
    "Ewa",
    "Joanna",
    "Gosia",
    "Basia",
    "Ola",
    "Marta",
    "Iwona",
    "Jadzia",
    "Grażyna",
    "Zosia",
]
PL_MALE_GEN = [
    "Tomka",
    "Marka",
    "Pawła",
    "Michała",
    "Krzysztofa",
    "Piotra",
    "Kamila",
    "Bartka",
    "Łukasza",
    "Wojtka",
    "Mietka",
    "Zbyszka",
]
PL_MALE_NOM = [
    "Tomek",
    "Marek",
    "Paweł",
    "Michał",
    "Krzysztof",
    "Piotr",
    "Kamil",
    "Bartek",
    "Łukasz",
    "Wojtek",
    "Mietek",
    "Zbyszek",
]
PL_SURNAMES = [
    "Kowalski",
    "Nowak",
    "Wiśniewska",
    "Wójcik",
    "Kamińska",
    "Lewandowski",
    "Zieliński",
    "Szymańska",
    "Dąbrowski",
    "Kozłowska",
    "Jankowski",
    "Mazur",
    "Krawczyk",
    "Piotrowska",
    "Grabowski",
]
EN_FIRST = [
    "John",
    "Sarah",
    "James",
    "Emma",
    "David",
    "Sophie",
    "Chris",
    "Rachel",
    "Tom",
    "Gemma",
    "Dan",
    "Lucy",
    "Priya",
    "Mohammed",
    "Claire",
    "Gary",
]
EN_SURNAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Patel",
    "Evans",
    "Khan",
    "Thomas",
    "Roberts",
    "Walker",
    "Hughes",
    "Clarke",
]
STREETS_PL = [
    "Długa",
    "Kwiatowa",
    "Słoneczna",
    "Leśna",
    "Polna",
    "Mickiewicza",
    "Jana Pawła II",
    "3 Maja",
    "Piłsudskiego",
    "Wojska Polskiego",
    "Ogrodowa",
    "Lipowa",
    "Szkolna",
    "Kościuszki",
    "Armii Krajowej",
]
CITIES_PL = [
    ("00-238", "Warszawa"),
    ("30-001", "Kraków"),
    ("80-180", "Gdańsk"),
    ("50-123", "Wrocław"),
    ("60-101", "Poznań"),
    ("90-001", "Łódź"),
    ("40-005", "Katowice"),
]
STREETS_UK = [
    "Station Road",
    "High Street",
    "Church Lane",
    "Kings Avenue",
    "Victoria Road",
    "Mill Lane",
    "Park Road",
    "Green Close",
    "Oak Drive",
    "Queens Crescent",
]
TOWNS_UK = [
    ("Leeds", "LS1 4DY"),
    ("Manchester", "M1 1AE"),
    ("Bristol", "BS1 5TR"),
    ("London", "SW1A 1AA"),
    ("Leicester", "LE1 6RP"),
    ("Cardiff", "CF10 1EP"),
]


def address_pl(rng: random.Random) -> str:
    street, (pc, city) = rng.choice(STREETS_PL), rng.choice(CITIES_PL)
    n = f"{rng.randint(1, 120)}" + rng.choice(["", "", "/" + str(rng.randint(1, 60)), "a"])
    return rng.choice(
        [
            f"ul. {street} {n}, {pc} {city}",
            f"ul. {street} {n}",
            f"al. {street} {n}",
            f"os. {street} {n}",
            f"{street} {n}, {pc} {city}",
            f"ul. {street} {n} {pc} {city}",
        ]
    )


def address_en(rng: random.Random) -> str:
    street, (town, pc) = rng.choice(STREETS_UK), rng.choice(TOWNS_UK)
    n = rng.randint(1, 240)
    return rng.choice(
        [
            f"{n} {street}, {town} {pc}",
            f"{n} {street}",
            f"Flat {rng.randint(1, 9)}, {n} {street}",
            f"{n} {street}, {town}, {pc}",
        ]
    )


def email(rng: random.Random, lang: str) -> str:
    first = rng.choice(
        ["kasia", "tomek", "anna", "jan", "m.nowak", "p_wisniewski"]
        if lang == "pl"
        else ["john", "sarah", "j.smith", "emma.b", "davidw"]
    )
    dom = rng.choice(
        ["gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl"]
        if lang == "pl"
        else ["gmail.com", "outlook.com", "yahoo.co.uk", "btinternet.com"]
    )
    return f"{first}{rng.choice(['', '85', '.k', '2001'])}@{dom}"


def order_number(rng: random.Random) -> str:
    return rng.choice(
        [
            f"#{rng.randint(1000000, 9999999)}",
            f"ZAM-2026-{rng.randint(100000, 999999)}",
            f"{rng.randint(1000000000, 9999999999)}",
            f"PL-{rng.randint(100000, 999999)}",
            f"{rng.randint(100000000, 999999999)}",
            f"A{rng.randint(1000000, 9999999)}",
            f"2026/11/{rng.randint(1000, 99999)}",
            f"{rng.randint(10000, 999999)}",
        ]
    )


def pii_clause(rng: random.Random, lang: str) -> Clause:
    kind = rng.choice(
        [
            "email",
            "phone",
            "phone",
            "pesel",
            "iban",
            "card_number",
            "address",
            "person_name",
            "person_name",
            "person_name",
        ]
    )
    if lang == "pl":
        if kind == "email":
            v = email(rng, lang)
            return Clause(
                None,
                "neu",
                rng.choice([f"mój mail to {v}", f"proszę o odpowiedź na {v}", f"kontakt: {v}"]),
                (("email", v),),
            )
        if kind == "phone":
            v = phone_pl(rng)
            return Clause(
                None,
                "neu",
                rng.choice(
                    [f"proszę o kontakt pod numerem {v}", f"zadzwońcie {v}", f"mój tel {v}", f"oddzwońcie na {v} po 16"]
                ),
                (("phone", v),),
            )
        if kind == "pesel":
            v = pesel(rng)
            return rng.choice(
                [
                    Clause(None, "neu", f"mój PESEL {v} jeśli potrzebny do reklamacji", (("pesel", v),)),
                    Clause("payment", "neg", f"na fakturze zamiast NIP wpisali mój pesel {v}", (("pesel", v),)),
                ]
            )
        if kind == "iban":
            raw = iban(rng, "PL")
            v = rng.choice([spaced(raw), raw, raw[2:], raw[2:4] + " " + spaced(raw[4:])])
            return rng.choice(
                [
                    Clause("returns_refunds", "neg", f"pieniądze miały wrócić na konto {v} i nic", (("iban", v),)),
                    Clause(None, "neu", f"proszę o przelew na {v}", (("iban", v),)),
                ]
            )
        if kind == "card_number":
            v = card(rng)
            return rng.choice(
                [
                    Clause("payment", "neg", f"z karty {v} pobrali pieniądze dwa razy", (("card_number", v),)),
                    Clause(None, "neu", f"płaciłam kartą {v}", (("card_number", v),)),
                ]
            )
        if kind == "address":
            v = address_pl(rng)
            return rng.choice(
                [
                    Clause("delivery", "neg", f"paczka miała przyjść na {v} a trafiła do sąsiada", (("address", v),)),
                    Clause(None, "neu", f"mój adres to {v}", (("address", v),)),
                    Clause(None, "neu", f"mieszkam {v}", (("address", v),)),
                ]
            )
        style = rng.randrange(5)
        if style == 0:
            v = rng.choice(PL_FEMALE)
            return Clause(
                "staff",
                "pos",
                rng.choice(
                    [
                        f"pani {v} z kasy była przemiła",
                        f"Pani {v} świetnie mi doradziła",
                        f"obsługiwała mnie pani {v}, bardzo pomocna",
                    ]
                ),
                (("person_name", v),),
            )
        if style == 1:
            v = rng.choice(PL_MALE_GEN)
            return Clause(
                "staff",
                "neg",
                rng.choice(
                    [
                        f"zachowanie pana {v} pozostawia wiele do życzenia",
                        f"proszę porozmawiać z panem, chodzi o pana {v} z magazynu",
                    ]
                ),
                (("person_name", v),),
            )
        if style == 2:
            v = rng.choice(PL_SURNAMES)
            return Clause(
                "staff",
                "neg",
                rng.choice([f"pan {v} z kasy był niemiły", f"pani {v} nie chciała przyjąć reklamacji"]),
                (("person_name", v),),
            )
        if style == 3:
            v = rng.choice(PL_MALE_NOM)
            return Clause(
                "delivery",
                "neg",
                rng.choice([f"kurier {v} rzucił paczką", f"kierowca {v} nie zadzwonił"]),
                (("person_name", v),),
            )
        v = f"{rng.choice(PL_FEMALE)} {rng.choice(PL_SURNAMES)}"
        return Clause(
            "staff",
            "pos",
            rng.choice([f"podziękowania dla {v}", f"{v} z działu obuwia to skarb"]),
            (("person_name", v),),
        )
    if kind == "email":
        v = email(rng, lang)
        return Clause(
            None, "neu", rng.choice([f"my email is {v}", f"please reply to {v}", f"contact me at {v}"]), (("email", v),)
        )
    if kind == "phone":
        v = phone_en(rng)
        return Clause(
            None, "neu", rng.choice([f"call me on {v}", f"my number is {v}", f"ring {v} after 5pm"]), (("phone", v),)
        )
    if kind == "pesel":  # a Polish customer of the UK shop
        v = pesel(rng)
        return Clause(None, "neu", f"my PESEL is {v} if you need it", (("pesel", v),))
    if kind == "iban":
        raw = iban(rng, "GB")
        v = rng.choice([spaced(raw), raw])
        return rng.choice(
            [
                Clause("returns_refunds", "neg", f"the refund was meant to go to {v} and never did", (("iban", v),)),
                Clause(None, "neu", f"please pay it into {v}", (("iban", v),)),
            ]
        )
    if kind == "card_number":
        v = card(rng)
        return rng.choice(
            [
                Clause("payment", "neg", f"card {v} was charged twice", (("card_number", v),)),
                Clause(None, "neu", f"I paid with card {v}", (("card_number", v),)),
            ]
        )
    if kind == "address":
        v = address_en(rng)
        return rng.choice(
            [
                Clause("delivery", "neg", f"it was meant to go to {v} but went next door", (("address", v),)),
                Clause(None, "neu", f"my address is {v}", (("address", v),)),
            ]
        )
    style = rng.randrange(4)
    if style == 0:
        v = f"{rng.choice(EN_FIRST)} {rng.choice(EN_SURNAMES)}"
        return Clause(
            "staff",
            "pos",
            rng.choice([f"ask for {v}, she is brilliant", f"{v} on the till was lovely"]),
            (("person_name", v),),
        )
    if style == 1:
        v = rng.choice(EN_SURNAMES)
        return Clause(
            "staff", "neg", rng.choice([f"Mr {v} was rude to me", f"Mrs {v} refused to help"]), (("person_name", v),)
        )
    if style == 2:
        v = rng.choice(EN_FIRST)
        return Clause(
            "staff",
            "pos",
            rng.choice([f"{v} was really helpful", f"thanks to {v} in the shoe department"]),
            (("person_name", v),),
        )
    v = rng.choice(EN_FIRST)
    return Clause("delivery", "neg", f"the driver, {v}, just dumped it at the gate", (("person_name", v),))


def keep_clause(rng: random.Random, lang: str) -> Clause:
    o = order_number(rng)
    if lang == "pl":
        price = rng.choice(
            [f"{rng.randint(19, 899)} zł", f"{rng.randint(19, 899)},99 zł", f"1 {rng.randint(100, 999)} zł"]
        )
        date = rng.choice(
            [
                f"{rng.randint(1, 28)}.{rng.randint(1, 12):02d}.2026",
                f"{rng.randint(1, 28)}.{rng.randint(1, 12):02d}",
                f"2026-{rng.randint(1, 12):02d}-{rng.randint(10, 28)}",
            ]
        )
        till = str(rng.randint(1, 12))
        return rng.choice(
            [
                Clause("delivery", "neg", f"zamówienie nr {o} nadal nie dotarło", keep=(("order_number", o),)),
                Clause(None, "neu", f"nr zamówienia {o}", keep=(("order_number", o),)),
                Clause("price", "neg", f"zapłaciłam {price} a na metce było mniej", keep=(("price", price),)),
                Clause(None, "neu", f"zakupy z dnia {date}", keep=(("date", date),)),
                Clause("waiting_time", "neg", f"przy kasie nr {till} stałam 20 minut", keep=(("till", till),)),
                Clause(
                    "returns_refunds",
                    "neg",
                    f"reklamacja do zamówienia {o} z {date} wciąż bez odpowiedzi",
                    keep=(("order_number", o), ("date", date)),
                ),
            ]
        )
    price = rng.choice([f"£{rng.randint(5, 199)}.99", f"£{rng.randint(5, 199)}", f"{rng.randint(5, 199)} quid"])
    date = rng.choice(
        [
            f"{rng.randint(1, 28)}/{rng.randint(1, 12):02d}/2026",
            f"{rng.randint(1, 28)} November",
            f"2026-{rng.randint(1, 12):02d}-{rng.randint(10, 28)}",
        ]
    )
    till = str(rng.randint(1, 12))
    return rng.choice(
        [
            Clause("delivery", "neg", f"order {o} still hasn't arrived", keep=(("order_number", o),)),
            Clause(None, "neu", f"order number {o}", keep=(("order_number", o),)),
            Clause("price", "neg", f"I paid {price} and it was cheaper on the label", keep=(("price", price),)),
            Clause(None, "neu", f"visited on {date}", keep=(("date", date),)),
            Clause("waiting_time", "neg", f"waited 20 minutes at till {till}", keep=(("till", till),)),
            Clause(
                "returns_refunds",
                "neg",
                f"complaint about order {o} from {date} still not answered",
                keep=(("order_number", o), ("date", date)),
            ),
        ]
    )


# --- composing ------------------------------------------------------------------------------------

EMOJI = {"pos": [" :)", " 👍", " :D", "!"], "neg": [" :(", " 😡", "!!!", " :/"], "neu": [""]}


def strip_diacritics(text: str) -> str:
    text = text.replace("ł", "l").replace("Ł", "L")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(len(w) - 1)
    words[i] = rng.choice([w[:j] + w[j + 1] + w[j] + w[j + 2 :], w[:j] + w[j + 1 :], w[:j] + w[j] + w[j:]])
    return " ".join(words)


def polarity_of(clauses: list[Clause]) -> str:
    pols = {c.polarity for c in clauses} - {"neu"}
    return (
        "mixed"
        if pols == {"pos", "neg"}
        else "positive"
        if pols == {"pos"}
        else "negative"
        if pols == {"neg"}
        else "neutral"
    )


def score_for(rng: random.Random, survey: str, sentiment: str) -> int:
    lo, hi = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}[survey]
    if rng.random() < 0.12:  # the score and the text disagree: a 9 with a complaint, a 3 with praise
        return rng.randint(lo, hi)
    band = {"positive": (0.8, 1.0), "negative": (0.0, 0.6), "mixed": (0.4, 0.9), "neutral": (0.6, 0.9)}[sentiment]
    return round(lo + (hi - lo) * rng.uniform(*band))


def join(rng: random.Random, lang: str, clauses: list[Clause]) -> str:
    out = clauses[0].text
    for prev, c in itertools.pairwise(clauses):
        contrast = {prev.polarity, c.polarity} == {"pos", "neg"}
        if contrast:
            sep = rng.choice(
                [", ale ", ". Ale ", ", natomiast ", ". Za to ", " ale "]
                if lang == "pl"
                else [", but ", ". But ", " but ", ". On the other hand "]
            )
        else:
            sep = rng.choice(
                [", ", ". ", " i ", ", do tego ", ". Poza tym ", "; "]
                if lang == "pl"
                else [", ", ". ", " and ", ", plus ", ". Also ", "; "]
            )
        out += sep + c.text
    return out


def surface(rng: random.Random, lang: str, text: str, sentiment: str) -> str:
    if rng.random() < 0.7:
        text = ". ".join(s[:1].upper() + s[1:] for s in text.split(". "))
    if rng.random() < 0.6:
        text += rng.choice([".", ".", "!", "..."])
    if rng.random() < 0.1:
        pol = {"positive": "pos", "negative": "neg"}.get(sentiment, "neu")
        text += rng.choice(EMOJI[pol])
    if lang == "pl" and rng.random() < 0.25:
        text = strip_diacritics(text)
    if rng.random() < 0.15:
        text = typo(rng, text)
    if rng.random() < 0.08:
        text = text.lower()
    return text


def compose(rng: random.Random, lang: str, pool: list[Clause]) -> dict:
    target = rng.choices(["positive", "negative", "mixed", "neutral"], weights=[34, 36, 18, 12])[0]

    def pick(polarity: str, themed: bool) -> Clause:
        return rng.choice([c for c in pool if c.polarity == polarity and bool(c.theme) == themed])

    n = rng.choices([1, 2, 3], weights=[50, 38, 12])[0]
    if target == "neutral":
        clauses = [pick("neu", rng.random() < 0.5) for _ in range(min(n, 2))]
    elif target == "mixed":
        clauses = [pick("pos", True), pick("neg", True)] + [
            pick(rng.choice(["pos", "neg"]), True) for _ in range(n - 2)
        ]
        rng.shuffle(clauses)
        if rng.random() < 0.15:
            clauses.append(pick(rng.choice(["pos", "neg"]), False))
    else:
        pol = "pos" if target == "positive" else "neg"
        clauses = [pick(pol, rng.random() > 0.12) for _ in range(n)]
        if rng.random() < 0.15:
            clauses.insert(rng.randrange(len(clauses) + 1), pick("neu", True))
    clauses = [c for i, c in enumerate(clauses) if c not in clauses[:i]]
    if rng.random() < 0.4:
        clauses.insert(rng.randrange(len(clauses) + 1), pii_clause(rng, lang))
    if rng.random() < 0.22:
        clauses.insert(rng.randrange(len(clauses) + 1), keep_clause(rng, lang))
    sentiment = polarity_of(clauses)
    themes: list[str] = []
    for c in clauses:
        if c.theme and c.polarity != "neu" and c.theme not in themes:
            themes.append(c.theme)
    text = surface(rng, lang, join(rng, lang, clauses), sentiment)
    pii = [{"type": t, "text": v} for c in clauses for t, v in c.pii]
    keep = [{"type": t, "text": v} for c in clauses for t, v in c.keep]
    # the surface changes (lower case, no diacritics, a typo) may alter a planted value: keep only what survived
    pii = [p for p in pii if p["text"] in text] + [
        {"type": p["type"], "text": strip_diacritics(p["text"])}
        for p in pii
        if p["text"] not in text and strip_diacritics(p["text"]) in text
    ]
    survey = rng.choices(["nps", "csat", "ces"], weights=[6, 2.5, 1.5])[0]
    return {
        "lang": lang,
        "text": text,
        "survey": survey,
        "score": score_for(rng, survey, sentiment),
        "sentiment": sentiment,
        "themes": themes[:3],
        "pii": pii,
        "keep": [k for k in keep if k["text"] in text],
    }


def main() -> None:
    rng = random.Random(20261201)
    rows = []
    for lang, n in COUNTS.items():
        clauses = load(lang)
        pools = {"train": [c for c in clauses if not is_dev(c.text)], "dev": [c for c in clauses if is_dev(c.text)]}
        for i in range(n):
            split = "dev" if i % 10 < 3 else "train"
            row = compose(rng, lang, pools[split])
            rows.append({"id": f"{lang}-{i:04d}", **row, "split": split})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} comments to {OUT}")


if __name__ == "__main__":
    main()
