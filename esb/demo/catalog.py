"""The demo's world: a small product catalog, warehouses, and people who shop on several channels.

Each person exists once; what a channel knows about them is a *variant* (email casing, phone format,
a typo in the name), so the customer merger has real cross-channel duplicates to resolve.
Everything is derived from a seed and a run tag, so two runs with the same pair produce the same data
and runs with different tags never share a SKU, an email or a native id.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["LOCATIONS", "Person", "Product", "Variant", "people", "products"]

# The order router's location codes (services/order_router/routing_rules.yaml).
LOCATIONS = ("WH-US-EAST", "WH-US-WEST")

_PRODUCTS = (
    ("BOOT-BRN", "Big Brown Bear Boots", "74.99"),
    ("TEE-WHT", "Organic Cotton Tee White", "19.50"),
    ("TEE-BLK", "Organic Cotton Tee Black", "19.50"),
    ("HOOD-GRY", "Heavyweight Hoodie Grey", "59.00"),
    ("CAP-NVY", "Six-Panel Cap Navy", "24.00"),
    ("SOCK-3PK", "Merino Socks 3-Pack", "18.75"),
    ("JKT-RAIN", "Packable Rain Jacket", "129.00"),
    ("BAG-TOTE", "Canvas Tote Bag", "29.95"),
    ("BELT-LTH", "Leather Belt", "45.00"),
    ("SCARF-WL", "Wool Scarf", "39.90"),
    ("GLV-TCH", "Touchscreen Gloves", "22.40"),
    ("BTL-STL", "Steel Water Bottle", "27.25"),
)

_FIRST = ("Jane", "Omar", "Mei", "Lukas", "Priya", "Carlos", "Aisha", "Tom", "Sofia", "Kenji", "Nora", "Ravi")
_LAST = ("Doe", "Haddad", "Chen", "Becker", "Sharma", "Lopez", "Okafor", "Murphy", "Rossi", "Tanaka")
_STREETS = ("Market St", "Main St", "Oak Ave", "Pine Rd", "Elm St", "Cedar Ln")
_CITIES = (
    ("San Francisco", "CA", "94103"),
    ("Austin", "TX", "73301"),
    ("Seattle", "WA", "98101"),
    ("Boston", "MA", "02108"),
    ("Denver", "CO", "80202"),
)


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    title: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class Variant:
    """How one channel spells a person."""

    first_name: str
    last_name: str
    email: str
    phone: str


@dataclass(frozen=True, slots=True)
class Person:
    key: str
    first_name: str
    last_name: str
    email: str
    phone_digits: str  # ten digits, US
    street: str
    city: str
    state: str
    zip_code: str

    def variant(self, style: int) -> Variant:
        """0: canonical; 1: email casing + dashed phone; 2: E.164 phone + a typo; 3: dotted phone."""
        d = self.phone_digits
        if style == 1:
            return Variant(self.first_name, self.last_name, self.email.title(), f"{d[:3]}-{d[3:6]}-{d[6:]}")
        if style == 2:
            typo = self.last_name[:-1] + self.last_name[-1] * 2  # "Doe" -> "Doee"
            return Variant(self.first_name, typo, self.email.upper(), f"+1{d}")
        if style == 3:
            return Variant(self.first_name.lower(), self.last_name, self.email, f"{d[:3]}.{d[3:6]}.{d[6:]}")
        return Variant(self.first_name, self.last_name, self.email, f"({d[:3]}) {d[3:6]}-{d[6:]}")


def products(tag: str) -> tuple[Product, ...]:
    prefix = f"{tag}-" if tag else ""
    return tuple(Product(f"{prefix}{sku}", title, Decimal(price)) for sku, title, price in _PRODUCTS)


def people(seed: int, tag: str, count: int) -> tuple[Person, ...]:
    rng = random.Random(f"people:{seed}:{tag}")
    suffix = f".{tag.lower()}" if tag else ""
    result = []
    for index in range(count):
        first = _FIRST[index % len(_FIRST)]
        last = _LAST[(index * 7 + seed) % len(_LAST)]
        city, state, zip_code = rng.choice(_CITIES)
        result.append(
            Person(
                key=f"p{index}",
                first_name=first,
                last_name=last,
                email=f"{first.lower()}.{last.lower()}{index}{suffix}@example.com",
                phone_digits=f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(1000, 9999)}",
                street=f"{rng.randint(1, 999)} {rng.choice(_STREETS)}",
                city=city,
                state=state,
                zip_code=zip_code,
            )
        )
    return tuple(result)
