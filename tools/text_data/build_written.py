"""Build data/text/written.jsonl from the individually written comments (data/text/written/{pl,en}.txt).

    python tools/text_data/build_written.py        # rewrites data/text/written.jsonl, checks every line

Each comment was written on its own, as one customer would write it; a line of the source is

    SURVEY SCORE SENTIMENT THEMES | text with {markup}

THEMES is `-` or a comma-separated list of up to three theme ids. Markup in the text:
- personal data, written out: `{n:Kasia}` person_name, `{p:601 234 567}` phone, `{e:a@b.pl}` email,
  `{a:ul. Długa 5/12}` address;
- checksummed personal data, filled in here with a valid number (fixed seed): `{pesel}`, `{iban}` (PL,
  grouped), `{iban:compact}`, `{iban:nrb}` (26 digits without "PL"), `{iban:gb}`, `{card}` (grouped by 4),
  `{card:compact}`, `{card:dash}`;
- values that must NOT be masked: `{o:ZAM-1234}` order_number, `{d:12.11}` date, `{t:3}` till,
  `{$:129,99 zł}` price.
The markup is removed from the text and listed in `pii` / `keep` with its exact substring. The split is
fixed by position: every line whose number (from 1, per language) leaves 1, 4 or 7 modulo 10 is `dev` (30%),
never trained on; the rest is `train`. Comments after a line `#train-only` were written later, to train only
(numbered on, all `train`): so adding them leaves the dev split exactly the rows it was.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SOURCE = ROOT / "data" / "text" / "written"
OUT = ROOT / "data" / "text" / "written.jsonl"
SEED = 12
SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
SENTIMENTS = {"positive", "negative", "neutral", "mixed"}
THEMES = {
    "delivery", "product_quality", "price", "staff", "waiting_time", "availability", "payment",
    "website_app", "returns_refunds", "communication", "store_environment",
}  # fmt: skip
PII = {"n": "person_name", "p": "phone", "e": "email", "a": "address"}
KEEP = {"o": "order_number", "d": "date", "t": "till", "$": "price"}
MARK = re.compile(r"\{([a-z$]+)(?::([^{}]*))?\}")
DEV = {1, 4, 7}
TRAIN_ONLY = "#train-only"


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
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


def spaced(s: str, group: int = 4) -> str:
    return " ".join(s[i : i + group] for i in range(0, len(s), group))


def luhn_card(rng: random.Random, style: str) -> str:
    body = rng.choice(["4", "51", "52", "55", "2221"]) + "".join(str(rng.randint(0, 9)) for _ in range(14))
    body = body[:15]
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    number = body + str((10 - total % 10) % 10)
    if style == "compact":
        return number
    if style == "dash":
        return "-".join(spaced(number).split())
    return spaced(number)


def fill(kind: str, arg: str | None, rng: random.Random) -> tuple[str, str, str]:
    """(list, type, the substring) of one piece of markup."""
    if kind in PII:
        return "pii", PII[kind], arg or ""
    if kind in KEEP:
        return "keep", KEEP[kind], arg or ""
    if kind == "pesel":
        return "pii", "pesel", pesel(rng)
    if kind == "iban":
        if arg == "gb":
            return "pii", "iban", spaced(iban(rng, "GB"))
        raw = iban(rng, "PL")
        value = {"compact": raw, "nrb": raw[2:4] + " " + spaced(raw[4:])}.get(arg or "", spaced(raw))
        return "pii", "iban", value
    if kind == "card":
        return "pii", "card_number", luhn_card(rng, arg or "")
    raise ValueError(f"unknown markup {{{kind}}}")


def parse_line(lang: str, number: int, line: str, rng: random.Random, train_only: bool = False) -> dict:
    head, sep, body = line.partition(" | ")
    if not sep:
        raise ValueError("no ' | ' between the labels and the text")
    survey, score, sentiment, themes = head.split()
    lo, hi = SCALES[survey]
    if not lo <= int(score) <= hi:
        raise ValueError(f"score {score} outside {survey} {lo}-{hi}")
    if sentiment not in SENTIMENTS:
        raise ValueError(f"sentiment {sentiment!r}")
    theme_list = [] if themes == "-" else themes.split(",")
    if len(theme_list) > 3 or len(set(theme_list)) != len(theme_list) or not set(theme_list) <= THEMES:
        raise ValueError(f"themes {themes!r}")
    found: dict[str, list[dict]] = {"pii": [], "keep": []}

    def replace(m: re.Match[str]) -> str:
        where, kind, value = fill(m.group(1), m.group(2), rng)
        if not value:
            raise ValueError(f"empty markup {m.group()}")
        found[where].append({"type": kind, "text": value})
        return value

    text = MARK.sub(replace, body.strip())
    if "{" in text or "}" in text:
        raise ValueError("unbalanced markup")
    return {
        "id": f"w{lang}-{number:04d}",
        "lang": lang,
        "text": text,
        "survey": survey,
        "score": int(score),
        "sentiment": sentiment,
        "themes": theme_list,
        "pii": found["pii"],
        "keep": found["keep"],
        "split": "dev" if number % 10 in DEV and not train_only else "train",
    }


def build() -> list[dict]:
    rng = random.Random(SEED)
    rows, problems, seen = [], [], set()
    for lang in ("pl", "en"):
        number, train_only = 0, False
        for raw in (SOURCE / f"{lang}.txt").read_text(encoding="utf-8").splitlines():
            train_only = train_only or raw.strip() == TRAIN_ONLY
            if not raw.strip() or raw.startswith("#"):
                continue
            number += 1
            try:
                row = parse_line(lang, number, raw, rng, train_only)
            except (ValueError, KeyError) as exc:
                problems.append(f"{lang}.txt comment {number}: {exc}: {raw[:60]}")
                continue
            if (lang, row["text"].casefold()) in seen:
                problems.append(f"{lang}.txt comment {number}: duplicate text")
            seen.add((lang, row["text"].casefold()))
            rows.append(row)
    if problems:
        raise SystemExit("\n".join(problems))
    return rows


def main() -> None:
    rows = build()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    for lang in ("pl", "en"):
        mine = [r for r in rows if r["lang"] == lang]
        dev = sum(r["split"] == "dev" for r in mine)
        print(f"{lang}: {len(mine)} comments ({dev} dev)")


if __name__ == "__main__":
    main()
