"""A deterministic stream of native events: orders, payments, refunds, customers and stock feeds.

The generator thinks in *flows* (an order and its payment, a return and its refund, a customer
signing up on another channel, a warehouse count) and emits their events one by one; the mix
weighs flows. Given a seed and a run tag the content is the same every time; timestamps are the
wall clock at generation, so end-to-end latency can be measured from them.
"""

from __future__ import annotations

import random
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zlib import crc32

from esb.demo import payloads
from esb.demo.catalog import LOCATIONS, Person, Product, people, products
from esb.demo.payloads import Line, OrderDraft
from esb.demo.secrets import DemoSecrets

__all__ = ["DEFAULT_MIX", "DemoEvent", "Generator", "Ledger", "parse_mix"]

DEFAULT_MIX: dict[str, int] = {
    "shopify_order": 30,
    "woocommerce_order": 15,
    "amazon_order": 10,
    "refund": 6,
    "customer": 14,
    "stock": 20,
    "wms_feed": 5,
}
_NAMESPACE = uuid.UUID("6f1d2a3e-6a57-4c55-9d8e-3b0b7f5f2a10")
_LOCATION_IDS = {location: 9001 + index for index, location in enumerate(LOCATIONS)}


def parse_mix(text: str | None) -> dict[str, int]:
    """``shopify_order=30,stock=10``: the flows named get these weights, the others keep theirs."""
    mix = dict(DEFAULT_MIX)
    if not text:
        return mix
    for part in text.split(","):
        name, sep, weight = part.partition("=")
        name = name.strip()
        if not sep or name not in DEFAULT_MIX:
            raise ValueError(f"unknown flow {name!r}; flows: {', '.join(DEFAULT_MIX)}")
        mix[name] = int(weight)
        if mix[name] < 0:
            raise ValueError(f"weight of {name} is negative")
    if not any(mix.values()):
        raise ValueError("every weight is zero")
    return mix


@dataclass(frozen=True, slots=True)
class DemoEvent:
    """One native event and where it enters the bus."""

    kind: str
    provider: str  # gateway provider: shopify, woocommerce, stripe, adyen, generic
    account: str | None  # URL path account, when the provider takes one
    provider_topic: str  # X-Shopify-Topic, X-WC-Webhook-Topic, Adyen event code, X-ESB-Topic
    event_id: str
    ingress_topic: str
    body: dict[str, Any]
    keys: Mapping[str, str] = field(default_factory=dict)  # business keys, for tracing and checks


@dataclass(slots=True)
class Ledger:
    """What was generated, for the end-of-run report and the e2e checks."""

    orders: list[OrderDraft] = field(default_factory=list)
    customer_records: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # person -> (system, id)
    stock: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (source, sku, location) -> level
    refunds: int = 0
    payments: int = 0


class Generator:
    def __init__(
        self,
        secrets: DemoSecrets,
        *,
        seed: int = 1,
        tag: str = "",
        mix: Mapping[str, int] | None = None,
        person_count: int = 40,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.secrets = secrets
        self.tag = tag
        self.ledger = Ledger()
        self._rng = random.Random(f"demo:{seed}:{tag}")
        self._mix = dict(mix or DEFAULT_MIX)
        self._products = products(tag)
        self._people = people(seed, tag, person_count)
        self._clock = clock
        self._pending: deque[DemoEvent] = deque()
        self._sequence = 0
        base = 10**11 + (crc32(f"{seed}:{tag}".encode()) % 10**6) * 10**5
        self._next_id = base
        self._customer_base = base // 100
        self._paid: list[tuple[OrderDraft, str]] = []  # orders with their payment reference

    # ---- identifiers --------------------------------------------------------------------------
    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _event_id(self) -> str:
        self._sequence += 1
        return str(uuid.uuid5(_NAMESPACE, f"{self.tag}:{self._rng.random()}:{self._sequence}"))

    # ---- the stream -----------------------------------------------------------------------------
    @property
    def products(self) -> tuple[Product, ...]:
        return self._products

    def opening_stock(self) -> list[DemoEvent]:
        """A warehouse count of every SKU at every location, so orders have stock to be routed to."""
        return [self._stock_count(location, self._products) for location in LOCATIONS]

    def __iter__(self) -> Iterator[DemoEvent]:
        return self

    def __next__(self) -> DemoEvent:
        while not self._pending:
            self._start_flow()
        return self._pending.popleft()

    def _start_flow(self) -> None:
        names = [name for name, weight in self._mix.items() if weight > 0]
        flow = self._rng.choices(names, weights=[self._mix[n] for n in names])[0]
        getattr(self, f"_flow_{flow}")()

    def fixed_set(self, orders_per_channel: int = 3, duplicated_people: int = 4) -> list[DemoEvent]:
        """A small, complete scenario: stock, orders on three channels with payments, refunds, duplicates."""
        events = self.opening_stock()
        for index in range(duplicated_people):
            person = self._people[index]
            events.append(self._shopify_customer(person, style=0))
            events.append(self._woocommerce_customer(person, style=1 + index % 3))
        for _ in range(orders_per_channel):
            self._flow_shopify_order()
            self._flow_woocommerce_order()
            self._flow_amazon_order()
        self._flow_refund()
        self._flow_refund()
        events.extend(self._pending)
        self._pending.clear()
        return events

    # ---- flows ----------------------------------------------------------------------------------
    def _draft(self, channel: str) -> OrderDraft:
        person = self._rng.choice(self._people)
        chosen = self._rng.sample(self._products, k=self._rng.randint(1, 3))
        lines = tuple(Line(self._id(), product, self._rng.randint(1, 3)) for product in chosen)
        number = self._id() % 10**7
        native_id = self._id()
        reference = (
            f"{native_id % 1000:03d}-{native_id % 10**7:07d}-{number:07d}" if channel == "amazon" else ""
        )
        draft = OrderDraft(
            channel=channel,
            native_id=native_id,
            number=number,
            person=person,
            variant=person.variant(self._rng.randint(0, 3)),
            lines=lines,
            currency="USD",
            placed_at=self._clock(),
            shipping=Decimal(self._rng.choice(("0.00", "4.95", "9.90"))),
            reference=reference,
        )
        self.ledger.orders.append(draft)
        return draft

    def _order_keys(self, draft: OrderDraft) -> dict[str, str]:
        return {
            "order": draft.key,
            "sku": draft.lines[0].product.sku,
            "person": draft.person.key,
        }

    def _flow_shopify_order(self) -> None:
        draft = self._draft("shopify")
        customer_id = self._customer_id("shopify", draft.person)
        self._pending.append(
            DemoEvent(
                "shopify_order",
                "shopify",
                None,
                "orders/create",
                self._event_id(),
                "ingress.shopify.orders",
                payloads.shopify_order(draft, customer_id),
                self._order_keys(draft),
            )
        )
        charge = f"ch_{self.tag.lower()}_{draft.native_id}"  # "_": no PAN-like digit run
        self._pending.append(
            DemoEvent(
                "stripe_charge",
                "stripe",
                None,
                "charge.succeeded",
                f"evt_{draft.native_id}",
                "ingress.stripe.events",
                payloads.stripe_charge_succeeded(draft, charge, f"evt_{draft.native_id}"),
                self._order_keys(draft),
            )
        )
        self._paid.append((draft, charge))
        self.ledger.payments += 1

    def _flow_woocommerce_order(self) -> None:
        draft = self._draft("woocommerce")
        customer_id = self._customer_id("woocommerce", draft.person)
        self._pending.append(
            DemoEvent(
                "woocommerce_order",
                "woocommerce",
                self.secrets.woocommerce_account,
                "order.created",
                self._event_id(),
                "ingress.woocommerce.orders",
                payloads.woocommerce_order(draft, customer_id),
                self._order_keys(draft),
            )
        )
        psp = f"{draft.native_id % 10**16:016d}"
        self._pending.append(self._adyen(draft, psp, "AUTHORISATION", draft.total))
        self._paid.append((draft, psp))
        self.ledger.payments += 1

    def _flow_amazon_order(self) -> None:
        draft = self._draft("amazon")
        self._pending.append(
            DemoEvent(
                "amazon_order",
                "generic",
                "amazon",
                "orders",
                self._event_id(),
                "ingress.amazon.orders",
                payloads.amazon_order(draft, self.secrets.amazon_seller, draft.reference),
                self._order_keys(draft),
            )
        )

    def _flow_refund(self) -> None:
        if not self._paid:
            self._flow_shopify_order()
            return
        draft, reference = self._paid.pop(self._rng.randrange(len(self._paid)))
        line = draft.lines[0]
        amount = line.total + line.tax
        self.ledger.refunds += 1
        keys = self._order_keys(draft)
        if draft.channel == "shopify":
            location = _LOCATION_IDS[self._rng.choice(LOCATIONS)]
            self._pending.append(
                DemoEvent(
                    "shopify_refund",
                    "shopify",
                    None,
                    "refunds/create",
                    self._event_id(),
                    "ingress.shopify.refunds",
                    payloads.shopify_refund(draft, self._id(), line, location),
                    keys,
                )
            )
            refund_id = f"re_{self.tag.lower()}_{draft.native_id}"
            event_id = f"evt_r{draft.native_id}"
            self._pending.append(
                DemoEvent(
                    "stripe_refund",
                    "stripe",
                    None,
                    "charge.refunded",
                    event_id,
                    "ingress.stripe.events",
                    payloads.stripe_charge_refunded(draft, reference, event_id, refund_id, amount),
                    keys,
                )
            )
        else:
            psp = f"{(draft.native_id + 7) % 10**16:016d}"
            self._pending.append(self._adyen(draft, psp, "REFUND", amount, original=reference))

    def _flow_customer(self) -> None:
        person = self._rng.choice(self._people)
        style = self._rng.randint(0, 3)
        if self._rng.random() < 0.5:
            self._pending.append(self._shopify_customer(person, style))
        else:
            self._pending.append(self._woocommerce_customer(person, style))

    def _flow_stock(self) -> None:
        product = self._rng.choice(self._products)
        if self._rng.random() < 0.75:
            self._pending.append(self._shopify_level(product, self._rng.choice(LOCATIONS)))
        else:
            level = self._rng.randint(0, 150)
            self.ledger.stock[("amazon", product.sku, "FBA")] = level
            self._pending.append(
                DemoEvent(
                    "amazon_stock",
                    "generic",
                    "amazon",
                    "notifications",
                    self._event_id(),
                    "ingress.amazon.notifications",
                    payloads.fba_inventory(
                        self.secrets.amazon_seller, product.sku, level, self._clock(), self._event_id()
                    ),
                    {"sku": product.sku},
                )
            )

    def _flow_wms_feed(self) -> None:
        """A warehouse system's stock count (Magento MSI source items) for a few SKUs at one location."""
        location = self._rng.choice(LOCATIONS)
        self._pending.append(self._stock_count(location, self._rng.sample(self._products, k=4)))

    def _stock_count(self, location: str, counted: Sequence[Product]) -> DemoEvent:
        items = []
        for product in counted:
            level = self._rng.randint(20, 200)
            self.ledger.stock[("magento", product.sku, location)] = level
            items.append((product.sku, location, level))
        return DemoEvent(
            "wms_stock",
            "generic",
            "magento",
            "source-items",
            self._event_id(),
            "ingress.magento.source-items",
            payloads.msi_source_items(items),
            {"location": location, "sku": items[0][0]},
        )

    # ---- single events --------------------------------------------------------------------------
    def _customer_id(self, channel: str, person: Person) -> int:
        offset = {"shopify": 1, "woocommerce": 2}[channel]
        return self._customer_base + int(person.key[1:]) * 10 + offset

    def _shopify_customer(self, person: Person, style: int) -> DemoEvent:
        customer_id = self._customer_id("shopify", person)
        self.ledger.customer_records.setdefault(person.key, []).append(("shopify", str(customer_id)))
        return DemoEvent(
            "shopify_customer",
            "shopify",
            None,
            "customers/create",
            self._event_id(),
            "ingress.shopify.customers",
            payloads.shopify_customer(person, person.variant(style), customer_id, self._clock()),
            {"person": person.key},
        )

    def _woocommerce_customer(self, person: Person, style: int) -> DemoEvent:
        customer_id = self._customer_id("woocommerce", person)
        self.ledger.customer_records.setdefault(person.key, []).append(("woocommerce", str(customer_id)))
        return DemoEvent(
            "woocommerce_customer",
            "woocommerce",
            self.secrets.woocommerce_account,
            "customer.created",
            self._event_id(),
            "ingress.woocommerce.customers",
            payloads.woocommerce_customer(person, person.variant(style), customer_id, self._clock()),
            {"person": person.key},
        )

    def _shopify_level(self, product: Product, location: str) -> DemoEvent:
        level = self._rng.randint(50, 300)
        self.ledger.stock[("shopify", product.sku, location)] = level
        item_id = 10**8 + crc32(product.sku.encode()) % 10**8
        return DemoEvent(
            "shopify_stock",
            "shopify",
            None,
            "inventory_levels/update",
            self._event_id(),
            "ingress.shopify.inventory-levels",
            payloads.shopify_inventory_level(
                product.sku, item_id, _LOCATION_IDS[location], level, self._clock()
            ),
            {"sku": product.sku, "location": location},
        )

    def _adyen(
        self, draft: OrderDraft, psp: str, code: str, amount: Decimal, original: str | None = None
    ) -> DemoEvent:
        body = payloads.adyen_notification(draft, psp, code, self.secrets.adyen_merchant, amount, original)
        return DemoEvent(
            f"adyen_{code.lower()}",
            "adyen",
            None,
            code,
            f"{psp}:{code}:true",
            "ingress.adyen.notifications",
            body,
            self._order_keys(draft),
        )
