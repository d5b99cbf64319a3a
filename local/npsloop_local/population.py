"""A reproducible synthetic business for the demo: customers, stores and their business events."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from npsloop.domain.events import parse_business_event
from npsloop.domain.invitations import invitation_id_for
from npsloop.domain.programs import load_programs

PL_FIRST = ["Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Paweł", "Agnieszka", "Michał", "Zofia", "Jakub"]
PL_LAST = ["Nowak", "Kowalska", "Wiśniewski", "Wójcik", "Kamińska", "Lewandowski", "Zielińska", "Szymański"]
EN_FIRST = ["Jane", "Oliver", "Amelia", "Harry", "Isla", "George", "Emily", "Jack", "Sophie", "Noah"]
EN_LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Evans"]

# Twenty shops, each with its own true quality (hence its own true NPS); orders are placed in a
# shop or online ("online-pl" / "online-en").
STORES = [
    ("WAW-01", "mazowieckie", "pl"),
    ("WAW-02", "mazowieckie", "pl"),
    ("WAW-03", "mazowieckie", "pl"),
    ("KRK-01", "malopolskie", "pl"),
    ("KRK-02", "malopolskie", "pl"),
    ("GDA-01", "pomorskie", "pl"),
    ("WRO-01", "dolnoslaskie", "pl"),
    ("WRO-02", "dolnoslaskie", "pl"),
    ("POZ-01", "wielkopolskie", "pl"),
    ("LOD-01", "lodzkie", "pl"),
    ("KAT-01", "slaskie", "pl"),
    ("LUB-01", "lubelskie", "pl"),
    ("LON-01", "london", "en"),
    ("LON-02", "london", "en"),
    ("LON-03", "london", "en"),
    ("MAN-01", "north-west", "en"),
    ("LIV-01", "north-west", "en"),
    ("BIR-01", "west-midlands", "en"),
    ("EDI-01", "scotland", "en"),
    ("GLA-01", "scotland", "en"),
]
DETERIORATING_STORE = "KRK-02"  # its service falls apart over the last three weeks
DETERIORATION_DAYS = 21
FLAGSHIP_SHARE = 0.15  # customers who shop at the deteriorating store, a busy flagship, on top of its share
BOUNCE_SHARE = 0.012  # customers whose address bounces (SES mailbox simulator addresses)
COMPLAINT_SHARE = 0.004  # customers who mark the survey as spam

COMMENTS = {
    "pl": {
        "good": [
            "Szybka dostawa, wszystko w porządku.",
            "Bardzo miła i pomocna obsługa.",
            "Świetny wybór produktów, na pewno wrócę.",
        ],
        "mid": ["Było w porządku, ale dostawa mogłaby być szybsza.", "Ceny trochę wysokie."],
        "bad": [
            "Paczka przyszła uszkodzona i nikt nie odpowiada na maile.",
            "Długo czekałem na konsultanta, sprawa nadal niezałatwiona.",
            "Niemiła obsługa przy kasie.",
            "Składam reklamację, produkt nie działa od pierwszego dnia.",
            "Rezygnuję z zakupów u Was, to już drugi raz.",
        ],
    },
    "en": {
        "good": ["Quick delivery, all good.", "Very friendly and helpful staff.", "Great range, will come back."],
        "mid": ["Fine, but delivery could be faster.", "A bit pricey."],
        "bad": [
            "The parcel arrived damaged and nobody answers my emails.",
            "Waited ages for an agent and my issue is still open.",
            "Rude staff at the till.",
            "I want a refund, the grinder stopped working after a week.",
            "Thinking of cancelling my loyalty card after this.",
        ],
    },
}
SCRIPT_COMMENT = "<script>alert('xss')</script> nice try"


@dataclass(frozen=True)
class Customer:
    id: str
    locale: str
    first_name: str
    email: str | None
    email_consent: bool
    vip: bool
    home_store: str
    region: str
    segment: str

    def contract(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "locale": "pl-PL" if self.locale == "pl" else "en-GB",
            "time_zone": "Europe/Warsaw" if self.locale == "pl" else "Europe/London",
            "first_name": self.first_name,
            "vip": self.vip,
            "consents": {"email": self.email_consent, "sms": False},
        }


@dataclass
class PlannedEvent:
    at: datetime
    source: str
    detail_type: str
    detail: dict[str, Any]
    envelope_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    kind: str = "original"  # original | redelivery | reemitted | invalid

    def entry(self, bus: str) -> dict[str, Any]:
        return {
            "Source": self.source,
            "DetailType": self.detail_type,
            "Detail": json.dumps(self.detail, ensure_ascii=False),
            "EventBusName": bus,
            "Time": self.at,
        }


@dataclass
class Population:
    customers: list[Customer]
    events: list[PlannedEvent]
    store_quality: dict[str, float]
    start: datetime
    days: int

    def by_email(self) -> dict[str, Customer]:
        return {c.email.lower(): c for c in self.customers if c.email}

    def quality(self, store: str, at: datetime) -> float:
        """The store's true quality on a day: one store deteriorates over the last three weeks."""
        base = self.store_quality.get(store, 0.6)
        if store == DETERIORATING_STORE and at >= self.start + timedelta(days=self.days - DETERIORATION_DAYS):
            return 0.2
        return base

    def store_of(self) -> dict[str, str]:
        """invitation id -> the store its business event happened at (for the respondents' mood)."""
        catalogue = load_programs()
        stores: dict[str, str] = {}
        for planned in self.events:
            if planned.kind == "invalid":
                continue
            event = parse_business_event(planned.detail_type, planned.detail)
            if not event.context.store:
                continue
            for program in catalogue.for_event(planned.source, planned.detail_type, planned.detail):
                stores[invitation_id_for(program.id, event.business_key)] = event.context.store
        return stores


def build(
    customers: int, days: int, start: datetime, seed: int = 2026, flagship_share: float = FLAGSHIP_SHARE
) -> Population:
    """``flagship_share`` of the customers shop at the deteriorating store on top of its share of the rest."""
    rng = random.Random(seed)
    quality = {store: rng.uniform(0.35, 0.9) for store, _, _ in STORES}
    quality[DETERIORATING_STORE] = 0.8
    quality.update({"online-pl": 0.62, "online-en": 0.66})
    people = [_customer(rng, n, flagship_share) for n in range(customers)]
    events: list[PlannedEvent] = []
    for person in people:
        events.extend(_events_for(rng, person, start, days))
    extras: list[PlannedEvent] = []
    for planned in rng.sample(events, k=len(events) // 20):  # 5% delivered twice (same envelope)
        extras.append(
            PlannedEvent(
                planned.at + timedelta(minutes=rng.randint(1, 90)),
                planned.source,
                planned.detail_type,
                planned.detail,
                envelope_id=planned.envelope_id,
                kind="redelivery",
            )
        )
    for planned in rng.sample(events, k=len(events) // 50):  # 2% re-emitted upstream under a new event id
        detail = {**planned.detail, "event_id": f"{planned.detail['event_id']}-re"}
        extras.append(
            PlannedEvent(
                planned.at + timedelta(hours=rng.randint(1, 30)),
                planned.source,
                planned.detail_type,
                detail,
                kind="reemitted",
            )
        )
    for n in range(6):  # a few broken events from a buggy upstream
        extras.append(
            PlannedEvent(
                start + timedelta(days=rng.uniform(0, days)),
                "acme.shop",
                "OrderCompleted",
                {"event_id": f"evt-bad-{n}", "occurred_at": "not-a-date", "customer": {"id": ""}},
                kind="invalid",
            )
        )
    events.extend(e for e in extras if e.at < start + timedelta(days=days))
    events.sort(key=lambda e: e.at)
    return Population(people, events, quality, start, days)


def _customer(rng: random.Random, n: int, flagship_share: float = FLAGSHIP_SHARE) -> Customer:
    if rng.random() < flagship_share:
        store, region, locale = next(s for s in STORES if s[0] == DETERIORATING_STORE)
    else:
        store, region, locale = rng.choice(STORES) if rng.random() < 0.5 else _store_for_locale(rng, n)
    first = rng.choice(PL_FIRST if locale == "pl" else EN_FIRST)
    last = rng.choice(PL_LAST if locale == "pl" else EN_LAST)
    domain = "example.pl" if locale == "pl" else "example.com"
    has_email = rng.random() > 0.03
    address = f"{_ascii(first)}.{_ascii(last)}.{n}@{domain}".lower()
    roll = rng.random()
    if roll < BOUNCE_SHARE:
        address = f"bounce+c{n}@simulator.amazonses.com"
    elif roll < BOUNCE_SHARE + COMPLAINT_SHARE:
        address = f"complaint+c{n}@simulator.amazonses.com"
    return Customer(
        id=f"C-{100000 + n}",
        locale=locale,
        first_name=first,
        email=address if has_email else None,
        email_consent=rng.random() < 0.88,
        vip=rng.random() < 0.05,
        home_store=store,
        region=region,
        segment=rng.choice(["new", "returning", "loyal"]),
    )


def _store_for_locale(rng: random.Random, n: int) -> tuple[str, str, str]:
    locale = "pl" if n % 5 < 3 else "en"
    return rng.choice([s for s in STORES if s[2] == locale])


def _ascii(text: str) -> str:
    return text.translate(str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ"))


def _events_for(rng: random.Random, person: Customer, start: datetime, days: int) -> list[PlannedEvent]:
    planned: list[PlannedEvent] = []

    def when() -> datetime:
        return start + timedelta(seconds=rng.uniform(0, days * 86400))

    common = {
        "customer": person.contract(),
    }
    for _ in range(rng.choices([1, 2, 3], weights=[88, 10, 2])[0]):
        at = when()
        order = f"ORD-{rng.randint(10**7, 10**8 - 1)}"
        channel = rng.choices(["store", "web", "app", "phone"], weights=[45, 35, 15, 5])[0]
        planned.append(
            PlannedEvent(
                at,
                "acme.shop",
                "OrderCompleted",
                {
                    **common,
                    "event_id": f"evt-{order}",
                    "occurred_at": at.isoformat(),
                    "order_id": order,
                    "order_total": f"{rng.uniform(20, 900):.2f}",
                    "currency": "PLN" if person.locale == "pl" else "GBP",
                    "context": {
                        "store": person.home_store if channel == "store" else f"online-{person.locale}",
                        "region": person.region,
                        "channel": channel,
                        "product": rng.choice(["espresso-machine", "grinder", "beans", "kettle"]),
                        "customer_segment": person.segment,
                    },
                },
            )
        )
    if rng.random() < 0.2:
        at = when()
        ticket = f"TKT-{rng.randint(10**5, 10**6 - 1)}"
        planned.append(
            PlannedEvent(
                at,
                "acme.helpdesk",
                "SupportTicketClosed",
                {
                    **common,
                    "event_id": f"evt-{ticket}",
                    "occurred_at": at.isoformat(),
                    "ticket_id": ticket,
                    "resolution": rng.choice(["solved", "refund-issued", "replacement-sent"]),
                    "context": {
                        "channel": rng.choice(["phone", "chat", "email"]),
                        "agent": f"agent-{rng.randint(1, 25):03d}",
                        "region": person.region,
                        "customer_segment": person.segment,
                    },
                },
            )
        )
    if rng.random() < 0.3:
        at = when()
        visit = f"VIS-{person.home_store}-{rng.randint(10**5, 10**6 - 1)}"
        planned.append(
            PlannedEvent(
                at,
                "acme.stores",
                "StoreVisitRecorded",
                {
                    **common,
                    "event_id": f"evt-{visit}",
                    "occurred_at": at.isoformat(),
                    "visit_id": visit,
                    "context": {
                        "store": person.home_store,
                        "region": person.region,
                        "channel": "store",
                        "customer_segment": person.segment,
                    },
                },
            )
        )
    return planned


def answer_for(rng: random.Random, survey: str, quality: float, locale: str) -> tuple[int, str | None]:
    """A respondent's score and optional comment, drawn around a store's true quality."""
    mood = min(max(rng.gauss(quality, 0.25), 0.0), 1.0)
    if survey == "nps":
        score = 9 + (mood > 0.85) if mood > 0.6 else 7 + (mood > 0.5) if mood > 0.4 else int(mood * 15)
        band = "good" if score >= 9 else "mid" if score >= 7 else "bad"
    elif survey == "csat":
        score = 1 + round(mood * 4)
        band = "good" if score >= 4 else "mid" if score == 3 else "bad"
    else:
        score = 1 + round(mood * 6)
        band = "good" if score >= 5 else "mid" if score >= 4 else "bad"
    roll = rng.random()
    if roll < 0.005:
        return score, SCRIPT_COMMENT
    comment = rng.choice(COMMENTS[locale][band]) if roll < 0.5 else None
    return score, comment
