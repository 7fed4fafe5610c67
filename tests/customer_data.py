"""A labelled synthetic customer population with realistic corruption, as canonical events.

Each *person* has a name, an email, a phone and a home address; people in one *household* share
the address and the last name, and some households share a landline. Each person appears as 1-4
*source records* from different systems, each corrupted the way real sources corrupt data:

- Shopify customer records and guest checkouts (plus-addressed emails, upper-case, whitespace);
- Amazon orders with a per-buyer relay email (no shared email at all);
- POS records with a phone in local format and often nothing else but the name;
- ERP records with a typo in a name, first/last swapped, abbreviated streets, ZIP+4;
- a second email with the same phone, missing fields everywhere.

``person_of[customer_id]`` is the ground truth. Used by the unit tests (small populations), the
integration test and ``benchmarks/customer_matching.py`` (large ones).
"""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from schemas.common.models import Address, EventMetadata, Money, SourceRef
from schemas.customers import CustomerChange, CustomerEvent, SourceCustomer
from schemas.ids import canonical_id
from schemas.orders.models import CustomerSnapshot, Order, OrderChange, OrderEvent, OrderLine, OrderTotals

__all__ = ["Population", "generate", "pair_metrics"]


def _words(text: str) -> list[str]:
    return text.split()


FIRST = _words(
    """
James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard Susan
Joseph Jessica Thomas Sarah Charles Karen Christopher Nancy Daniel Lisa Matthew Betty Anthony
Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth
Dorothy Kevin Carol Brian Amanda George Melissa Timothy Deborah Ronald Stephanie Edward Rebecca
Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley
Jonathan Anna Stephen Brenda Larry Pamela Justin Emma Scott Nicole Brandon Helen Benjamin Samantha
Samuel Katherine Gregory Christine Alexander Debra Frank Rachel Patrick Carolyn Raymond Janet Jack
Catherine Dennis Maria Jerry Heather Tyler Diane Aaron Ruth Jose Julie Adam Olivia Nathan Joyce
Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren Kyle Christina Ethan Joan Walter Evelyn
Noah Judith Jeremy Megan Christian Andrea Keith Cheryl Roger Hannah Terry Jacqueline Gerald Martha
Harold Gloria Sean Teresa Austin Ann Carl Sara Arthur Madison Lawrence Frances Dylan Kathryn Jesse
Janice Jordan Jean Bryan Abigail Billy Alice Joe Judy Bruce Sophia Gabriel Grace Logan Denise Albert
Amber Willie Doris Alan Marilyn Juan Danielle Wayne Beverly Elijah Isabella Randy Theresa Roy Diana
Vincent Natalie Ralph Brittany Eugene Charlotte Russell Marie Bobby Kayla Mason Alexis Philip Lori
José François Zoë Björn Søren Łukasz Renée Chloé Jürgen Ines
"""
)
LAST = _words(
    """
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez
Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark
Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams
Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker
Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper
Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James
Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez
Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez
Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole
Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens
Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker
Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Muñoz
Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice
Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley
Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham
Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman
Johnston Matthews Peña Richards Willis Carpenter Lawrence Sandoval Müller Schröder Dubois Lefèvre
Kowalski Østergaard Ó'Brien
"""
)
STREETS = _words(
    """
Main Oak Pine Maple Cedar Elm Washington Lake Hill Park View Walnut Sunset Lincoln Jackson Church
River Highland Spring Forest Meadow Ridge Valley Willow Chestnut Franklin Adams Madison Jefferson
"""
)
SUFFIX = [
    ("Street", "St."),
    ("Avenue", "Ave"),
    ("Road", "Rd"),
    ("Drive", "Dr."),
    ("Lane", "Ln"),
    ("Boulevard", "Blvd"),
]
CITIES = [
    ("Springfield", "US"), ("Portland", "US"), ("Austin", "US"), ("Denver", "US"), ("Madison", "US"),
    ("Columbus", "US"), ("Salem", "US"), ("Franklin", "US"), ("London", "GB"), ("Manchester", "GB"),
    ("Berlin", "DE"), ("Hamburg", "DE"), ("Toronto", "CA"), ("Amsterdam", "NL"),
]  # fmt: skip
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "aol.com", "proton.me"]
REGION_PREFIX = {"US": "+1", "CA": "+1", "GB": "+44", "DE": "+49", "NL": "+31"}


@dataclass
class Person:
    pid: int
    first: str
    last: str
    email: str
    email2: str
    phone: str  # E.164
    street: tuple[str, int, int]  # (name, suffix index, number)
    city: str
    country: str
    postal: str


@dataclass
class Population:
    events: list[Any] = field(default_factory=list)  # CustomerEvent | OrderEvent, in arrival order
    person_of: dict[str, int] = field(default_factory=dict)  # source customer id -> person
    persons: list[Person] = field(default_factory=list)


def _postal(rng: random.Random, country: str) -> str:
    if country == "US":
        return f"{rng.randrange(10000, 99999)}"
    if country == "GB":
        outward = f"{rng.choice('NSEW')}{rng.choice('CEW')}{rng.randrange(1, 20)}"
        return f"{outward} {rng.randrange(1, 9)}{rng.choice('ABDEFGH')}{rng.choice('JLNPQRS')}"
    if country == "CA":
        forward = f"M{rng.randrange(1, 9)}{rng.choice('ABCEGH')}"
        return f"{forward} {rng.randrange(1, 9)}{rng.choice('JKLMN')}{rng.randrange(1, 9)}"
    if country == "NL":
        return f"{rng.randrange(1000, 9999)} {rng.choice('ABCDEFGH')}{rng.choice('JKLMNPRS')}"
    return f"{rng.randrange(10000, 99999)}"


def _phone(rng: random.Random, country: str) -> str:
    if country in ("US", "CA"):
        return f"+1{rng.randrange(201, 989)}{rng.randrange(200, 999)}{rng.randrange(1000, 9999)}"
    if country == "GB":
        return f"+447{rng.randrange(100000000, 999999999)}"
    if country == "DE":
        return f"+4915{rng.randrange(10000000, 99999999)}"
    return f"+316{rng.randrange(10000000, 99999999)}"


def _format_phone(rng: random.Random, e164: str, country: str) -> str:
    if country in ("US", "CA"):
        digits = e164[2:]
        return rng.choice(
            [
                e164,
                f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
                f"{digits[:3]}.{digits[3:6]}.{digits[6:]}",
                f"1-{digits[:3]}-{digits[3:6]}-{digits[6:]}",
            ]
        )
    national = "0" + e164[len(REGION_PREFIX[country]) :]
    return rng.choice([e164, national, f"{REGION_PREFIX[country]} {e164[len(REGION_PREFIX[country]) :]}"])


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.randrange(4)
    if op == 0:
        return text[:i] + text[i + 1 :]
    if op == 1:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if op == 2:
        return text[:i] + rng.choice(string.ascii_lowercase) + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def _case(rng: random.Random, text: str) -> str:
    return rng.choice([text, text, text.upper(), text.lower(), f"  {text} "])


def _make_person(rng: random.Random, pid: int, last: str | None, home: tuple[Any, ...] | None) -> Person:
    first = rng.choice(FIRST)
    last = last or rng.choice(LAST)
    if home is None:
        city, country = rng.choice(CITIES)
        home = (
            (rng.choice(STREETS), rng.randrange(len(SUFFIX)), rng.randrange(1, 2500)),
            city,
            country,
            _postal(rng, country),
        )
    street, city, country, postal = home
    handle = (
        f"{first}.{last}".lower()
        if rng.random() < 0.5
        else f"{first[0]}{last}{rng.randrange(10, 99)}".lower()
    )
    handle = "".join(ch for ch in handle if ch.isascii() and (ch.isalnum() or ch == "."))
    return Person(
        pid=pid,
        first=first,
        last=last,
        email=f"{handle}{rng.randrange(1, 999)}@{rng.choice(DOMAINS)}",
        email2=f"{first[0].lower()}{rng.randrange(1000, 99999)}@{rng.choice(DOMAINS)}",
        phone=_phone(rng, country),
        street=street,
        city=city,
        country=country,
        postal=postal,
    )


def _address(rng: random.Random, p: Person, name: str | None, abbreviate: bool) -> Address:
    street, suffix, number = p.street
    long, short = SUFFIX[suffix]
    line = f"{number} {street} {short if abbreviate else long}"
    if p.country == "DE":
        line = f"{street}{'str.' if abbreviate else 'straße'} {number}"
    postal = p.postal
    if p.country == "US" and rng.random() < 0.3:
        postal = f"{postal}-{rng.randrange(1000, 9999)}"
    if rng.random() < 0.2:
        postal = postal.replace(" ", "").lower()
    country = rng.choice(
        [
            p.country,
            p.country,
            {"US": "USA", "GB": "United Kingdom", "DE": "Germany", "CA": "Canada", "NL": "Netherlands"}[
                p.country
            ],
        ]
    )
    return Address(
        name=name,
        street_lines=[_case(rng, line)],
        city=_case(rng, p.city),
        postal_code=postal,
        country_code=country,
    )


def _meta(system: str, account: str, entity: str, native: str, at: datetime) -> EventMetadata:
    return EventMetadata(
        event_id=uuid.uuid4(),
        event_type=f"{entity}.updated",
        occurred_at=at,
        ingested_at=at,
        source=SourceRef(system=system, account=account, entity=entity, native_id=native),
    )


def _customer_event(system: str, account: str, native: str, at: datetime, **fields: Any) -> CustomerEvent:
    customer = SourceCustomer(
        customer_id=canonical_id(system, account, "customer", native),
        native_id=native,
        updated_at=at,
        **fields,
    )
    return CustomerEvent(
        metadata=_meta(system, account, "customer", native, at),
        change=CustomerChange.UPDATED,
        customer=customer,
    )


def _order_event(
    channel: str,
    account: str,
    native: str,
    at: datetime,
    snapshot: CustomerSnapshot,
    billing: Address | None,
    amount: Decimal,
    currency: str,
) -> OrderEvent:
    money = Money.of(amount, currency)
    zero = Money.of(0, currency)
    order = Order(
        order_id=canonical_id(channel, account, "order", native),
        channel=channel,
        account=account,
        native_id=native,
        placed_at=at,
        customer=snapshot,
        billing_address=billing,
        lines=[OrderLine(line_id="1", title="item", quantity=1, unit_price=money)],
        shop_currency=currency,
        totals=OrderTotals(subtotal=money, discounts=zero, shipping=zero, tax=zero, total=money),
    )
    return OrderEvent(
        metadata=_meta(channel, account, "order", native, at), change=OrderChange.PLACED, order=order
    )


def generate(persons: int, seed: int = 1, start: datetime | None = None) -> Population:
    """About 2.2 source records per person; households of 2-4 for a quarter of the people."""
    rng = random.Random(seed)
    population = Population()
    clock = start or datetime(2024, 1, 1, tzinfo=UTC)
    pid = 0
    while pid < persons:
        if rng.random() < 0.12:  # a household: shared address and last name, often a landline
            head = _make_person(rng, pid, None, None)
            members = [head]
            home = (head.street, head.city, head.country, head.postal)
            landline = head.phone if rng.random() < 0.4 else None
            for _ in range(rng.randrange(1, 4)):
                pid += 1
                member = _make_person(rng, pid, head.last, home)
                while member.first in {m.first for m in members}:
                    member.first = rng.choice(FIRST)
                if landline:
                    member.phone = landline
                members.append(member)
            pid += 1
        else:
            members = [_make_person(rng, pid, None, None)]
            pid += 1
        for person in members:
            population.persons.append(person)
            for record in _records(rng, person):
                clock += timedelta(seconds=rng.randrange(1, 600))
                population.events.append(_stamp(record, clock))
                cid = _customer_id_of(population.events[-1])
                population.person_of[cid] = person.pid
    return population


def _stamp(event: Any, at: datetime) -> Any:
    return event  # timestamps are set when the record is built


def _customer_id_of(event: Any) -> str:
    if isinstance(event, CustomerEvent):
        return str(event.customer.customer_id)
    from services.customer_merger.forward import from_order
    from services.customer_merger.settings import CustomerMergerSettings

    if "s" not in _SETTINGS:
        _SETTINGS["s"] = CustomerMergerSettings()
    item = from_order(event, _SETTINGS["s"])
    assert item is not None
    assert item.record is not None
    return item.record.customer_id


_SETTINGS: dict[str, Any] = {}


def _records(rng: random.Random, p: Person) -> list[Any]:
    at = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 500_000))
    currency = {"US": "USD", "CA": "CAD", "GB": "GBP", "DE": "EUR", "NL": "EUR"}[p.country]
    out: list[Any] = []
    kinds = rng.sample(
        ["shopify", "amazon", "pos", "erp", "guest", "shopify2"], rng.choice([1, 2, 2, 2, 3, 3, 4])
    )
    for kind in kinds:
        at += timedelta(days=rng.randrange(1, 60))
        native = uuid.UUID(int=rng.getrandbits(128)).hex[:12]
        first, last = p.first, p.last
        if kind == "shopify":
            local, _, domain = p.email.partition("@")
            email = (
                f"{local}+shop@{domain}"
                if rng.random() < 0.2 and domain in ("gmail.com", "outlook.com")
                else p.email
            )
            out.append(
                _customer_event(
                    "shopify", "acme.myshopify.com", native, at,
                    email=_case(rng, email),
                    phone=_format_phone(rng, p.phone, p.country) if rng.random() < 0.6 else None,
                    first_name=_case(rng, first), last_name=_case(rng, last),
                    addresses=[_address(rng, p, None, rng.random() < 0.5)] if rng.random() < 0.8 else [],
                )
            )  # fmt: skip
        elif kind == "shopify2":  # a second account: other email, same phone
            out.append(
                _customer_event(
                    "shopify", "acme-eu.myshopify.com", native, at,
                    email=p.email2, phone=_format_phone(rng, p.phone, p.country),
                    first_name=first if rng.random() < 0.8 else _typo(rng, first), last_name=last,
                )
            )  # fmt: skip
        elif kind == "amazon":
            relay = f"{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}@marketplace.amazon.com"
            snapshot = CustomerSnapshot(email=relay, first_name=None, last_name=None, is_guest=True)
            name = f"{first} {last}" if rng.random() < 0.8 else f"{_typo(rng, first)} {last}"
            billing = _address(rng, p, name, rng.random() < 0.5)
            snapshot = snapshot.model_copy(
                update={"first_name": name.split(" ")[0], "last_name": name.split(" ", 1)[1]}
            )
            out.append(
                _order_event(
                    "amazon",
                    "A1SELLER",
                    native,
                    at,
                    snapshot,
                    billing,
                    Decimal(rng.randrange(5, 300)),
                    currency,
                )
            )
        elif kind == "pos":
            swapped = rng.random() < 0.3
            out.append(
                _customer_event(
                    "pos", "store-12", native, at,
                    phone=_format_phone(rng, p.phone, p.country),
                    first_name=last if swapped else first, last_name=first if swapped else last,
                    email=p.email if rng.random() < 0.3 else None,
                )
            )  # fmt: skip
        elif kind == "erp":
            typo_first = rng.random() < 0.5
            out.append(
                _customer_event(
                    "netsuite", "1234567", native, at,
                    first_name=_typo(rng, first) if typo_first else first,
                    last_name=last if typo_first else _typo(rng, last),
                    email=p.email.upper() if rng.random() < 0.5 else None,
                    addresses=[_address(rng, p, None, True)],
                    company=None,
                )
            )  # fmt: skip
        else:  # Shopify guest checkout, possibly several orders
            snapshot = CustomerSnapshot(
                email=_case(rng, p.email) if rng.random() < 0.85 else None,
                phone=_format_phone(rng, p.phone, p.country) if rng.random() < 0.4 else None,
                first_name=first, last_name=last if rng.random() < 0.9 else _typo(rng, last), is_guest=True,
            )  # fmt: skip
            billing = _address(rng, p, f"{first} {last}", rng.random() < 0.5) if rng.random() < 0.7 else None
            if snapshot.email is None and billing is None and snapshot.phone is None:
                billing = _address(rng, p, f"{first} {last}", False)
            out.append(
                _order_event(
                    "shopify",
                    "acme.myshopify.com",
                    native,
                    at,
                    snapshot,
                    billing,
                    Decimal(rng.randrange(5, 300)),
                    currency,
                )
            )
    return out


def pair_metrics(clusters: list[list[str]], person_of: dict[str, int]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of ``clusters`` against the ground truth."""

    def pairs(n: int) -> int:
        return n * (n - 1) // 2

    predicted = sum(pairs(len(c)) for c in clusters)
    true_sizes: dict[int, int] = {}
    for pid in person_of.values():
        true_sizes[pid] = true_sizes.get(pid, 0) + 1
    actual = sum(pairs(n) for n in true_sizes.values())
    correct = 0
    for cluster in clusters:
        cells: dict[int, int] = {}
        for cid in cluster:
            cells[person_of[cid]] = cells.get(person_of[cid], 0) + 1
        correct += sum(pairs(n) for n in cells.values())
    precision = correct / predicted if predicted else 1.0
    recall = correct / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": actual,
        "predicted_pairs": predicted,
        "correct_pairs": correct,
    }
