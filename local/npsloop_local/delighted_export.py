"""A synthetic Delighted export, as its API answers: people, survey responses, unsubscribes, bounces.

For the demo (a year of history before the live weeks) and the import tests. The shapes follow
Delighted's API objects (survey_responses: id, person, survey_type, score, comment, permalink,
created_at, updated_at in unix seconds, person_properties, notes, tags, additional_answers; people:
id, email, name, phone_number, created_at, last_sent_at; unsubscribes and bounces: person_id,
email, name, unsubscribed_at / bounced_at). Each file is a JSON array with one object per line.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from npsloop_local import population

# Relative size of each store's customer base: a busy flagship (the deteriorating KRK-02), ordinary
# shops, and two small ones whose year still makes too small a sample to rank.
SIZES = {store: 1.0 for store, _, _ in population.STORES}
SIZES.update({"KRK-02": 6.0, "WAW-01": 2.5, "LON-01": 2.0, "WRO-01": 1.5, "EDI-01": 0.012, "GLA-01": 0.02})
ONLINE = {"online-pl": 3.0, "online-en": 2.0}
SURVEY_MIX = [("nps", 0.82), ("csat", 0.10), ("ces7", 0.08)]
NOTE_TEXTS = ["Called the customer back.", "Oddzwoniono do klienta.", "Refund issued.", "Przekazano do kierownika."]
TAGS = ["delivery", "staff", "price", "product", "dostawa", "obsługa"]


@dataclass
class DelightedExport:
    responses: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    unsubscribes: list[dict[str, Any]] = field(default_factory=list)
    bounces: list[dict[str, Any]] = field(default_factory=list)

    def write(self, directory: Path) -> dict[str, Path]:
        """kind (the CLI's source option) -> file."""
        directory.mkdir(parents=True, exist_ok=True)
        files = {
            "delighted-people": ("people.json", self.people),
            "delighted-responses": ("survey_responses.json", self.responses),
            "delighted-unsubscribes": ("unsubscribes.json", self.unsubscribes),
            "delighted-bounces": ("bounces.json", self.bounces),
        }
        written = {}
        for kind, (name, records) in files.items():
            written[kind] = _write_list(directory / name, records)
        return written

    def write_split(self, directory: Path, at: datetime) -> tuple[Path, Path]:
        """The responses again as two files, before ``at`` and from it, as Delighted's API hands out a
        long history in pages of time (``since``/``until``); at a UTC midnight, two imports can run side
        by side without ever counting into the same day item."""
        cut = int(at.timestamp())
        parts = (
            [r for r in self.responses if int(r["created_at"]) < cut],
            [r for r in self.responses if int(r["created_at"]) >= cut],
        )
        return (
            _write_list(directory / "survey_responses.1.json", parts[0]),
            _write_list(directory / "survey_responses.2.json", parts[1]),
        )


def _write_list(path: Path, records: list[dict[str, Any]]) -> Path:
    """A JSON array, one record a line (as Delighted's API pages read)."""
    body = ",\n".join(json.dumps(record, ensure_ascii=False) for record in records)
    path.write_text(f"[\n{body}\n]\n" if records else "[]\n", encoding="utf-8")
    return path


def generate(
    responses: int,
    start: datetime,
    end: datetime,
    *,
    store_quality: Mapping[str, float] | None = None,
    seed: int = 2026,
    unsubscribed_emails: tuple[str, ...] = (),
    bounced_emails: tuple[str, ...] = (),
    unmapped: int = 0,
    survey_mix: Sequence[tuple[str, float]] = SURVEY_MIX,
) -> DelightedExport:
    """``responses`` answers spread evenly over ``start..end``; ``unmapped`` more of a type no program takes."""
    rng = random.Random(seed)
    quality = dict(store_quality or {})
    for store, _, _ in population.STORES:
        quality.setdefault(store, rng.uniform(0.35, 0.9))
    quality.setdefault("online-pl", 0.62)
    quality.setdefault("online-en", 0.66)
    places = [(s, r, loc) for s, r, loc in population.STORES] + [
        ("online-pl", "online", "pl"),
        ("online-en", "online", "en"),
    ]
    weights = [SIZES.get(p[0], ONLINE.get(p[0], 1.0)) for p in places]
    export = DelightedExport()
    span = (end - start).total_seconds()
    person_ids: dict[str, int] = {}
    for n in range(responses + unmapped):
        store, region, locale = rng.choices(places, weights=weights)[0]
        customer = f"C-{200000 + rng.randrange(responses * 2 + 10)}"
        if customer not in person_ids:
            person_ids[customer] = 5_000_000 + len(person_ids)
            export.people.append(_person(rng, person_ids[customer], customer, locale, start))
        at = start + timedelta(seconds=rng.uniform(0, span))
        survey = "smileys" if n >= responses else rng.choices([s for s, _ in survey_mix], [w for _, w in survey_mix])[0]
        score, comment = population.answer_for(
            rng, {"ces7": "ces", "smileys": "csat"}.get(survey, survey), quality[store], locale
        )
        channel = "store" if not store.startswith("online") else rng.choice(["web", "app"])
        properties = {
            "Customer ID": customer,
            "Region": region,
            "Channel": channel,
            "Locale": "pl-PL" if locale == "pl" else "en-GB",
        }
        if survey != "ces7":
            properties["Store"] = store
        answered = int(at.timestamp())
        export.responses.append(
            {
                "id": str(10_000_000 + n),
                "person": str(person_ids[customer]),
                "survey_type": survey,
                "score": score,
                "comment": comment,
                "permalink": f"https://delighted.com/r/{rng.getrandbits(64):016x}",
                "created_at": answered,
                "updated_at": answered + (rng.randint(60, 3600) if rng.random() < 0.03 else 0),
                "person_properties": properties,
                "notes": _notes(rng, answered) if score <= 6 and rng.random() < 0.2 else [],
                "tags": sorted(rng.sample(TAGS, k=rng.randint(1, 2))) if comment and rng.random() < 0.4 else [],
                "additional_answers": [],
            }
        )
    for email in unsubscribed_emails:
        export.unsubscribes.append(_stop(rng, export, email, "unsubscribed_at", start=start, end=end))
    for email in bounced_emails:
        export.bounces.append(_stop(rng, export, email, "bounced_at", start=start, end=end))
    export.responses.sort(key=lambda r: r["created_at"])
    return export


def _person(rng: random.Random, person_id: int, customer: str, locale: str, start: datetime) -> dict[str, Any]:
    first = rng.choice(population.PL_FIRST if locale == "pl" else population.EN_FIRST)
    domain = "example.pl" if locale == "pl" else "example.com"
    return {
        "id": str(person_id),
        "email": f"{population._ascii(first).lower()}.{customer.lower()}@{domain}",
        "name": first,
        "phone_number": None,
        "created_at": int(start.timestamp()),
        "last_sent_at": None,
    }


def _notes(rng: random.Random, answered: int) -> list[dict[str, Any]]:
    return [
        {
            "id": str(rng.getrandbits(32)),
            "text": rng.choice(NOTE_TEXTS),
            "user_email": "cx-lead@example.com",
            "created_at": answered + 86400,
        }
    ]


def _stop(
    rng: random.Random, export: DelightedExport, email: str, at_field: str, *, start: datetime, end: datetime
) -> dict[str, Any]:
    person_id = str(6_000_000 + len(export.unsubscribes) + len(export.bounces))
    at = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
    return {"person_id": person_id, "email": email, "name": None, at_field: int(at.timestamp())}
