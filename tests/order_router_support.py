"""Builders and an in-memory bus for the order router's tests (no broker)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bus.testing import InMemoryBus
from schemas.common.models import Address, EventMetadata, Money, SourceRef
from schemas.fulfillment.models import FulfillmentOrderEvent
from schemas.ids import canonical_id, stock_key
from schemas.inventory.models import InventoryLevel, ReservationEvent, ReservationKind
from schemas.orders.models import (
    FinancialStatus,
    Order,
    OrderChange,
    OrderEvent,
    OrderLine,
    OrderTotals,
    RoutedOrderEvent,
)
from services.order_router.handler import build_service
from services.order_router.rules import RulesFile, parse_rules
from services.order_router.settings import RouterSettings

__all__ = ["RULES", "RouterBus", "level", "line", "order_event", "router_settings"]

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

RULES = """
version: "test-1"
holds: {financial_statuses: [PENDING], tags: [fraud-hold]}
rules:
  - id: hazmat
    when: {sku_patterns: ["HAZ-*"]}
    locations: [WH-HAZ]
  - id: eu
    when: {countries: [DE, FR]}
    erp_entity: EU-SUB
    locations: [WH-DE, WH-NL]
  - id: consolidate
    when: {order_tags: [consolidate]}
    erp_entity: US-SUB
    locations: [WH-A, WH-B, WH-C]
    policy: fewest_shipments
  - id: default
    default: true
    erp_entity: US-SUB
    locations: [WH-A, WH-B]
"""


def router_settings(**overrides: Any) -> RouterSettings:
    base: dict[str, Any] = {
        "orders_topic": "orders",
        "levels_topic": "levels",
        "reservations_topic": "reservations",
        "reservations_by_sku_topic": "reservations-by-sku",
        "fulfillment_topic": "fulfillment",
        "routed_topic": "routed",
        "by_sku_topic": "by-sku",
        "by_order_topic": "by-order",
    }
    base.update(overrides)
    return RouterSettings(**base)


def line(line_id: str, sku: str, quantity: int, **extra: Any) -> OrderLine:
    return OrderLine(
        line_id=line_id,
        sku=sku,
        title=sku,
        quantity=quantity,
        unit_price=Money.of("10.00", "USD"),
        **extra,
    )


def order_event(
    native_id: str,
    lines: list[OrderLine],
    *,
    change: OrderChange = OrderChange.PLACED,
    at_s: int = 0,
    country: str = "US",
    status: FinancialStatus = FinancialStatus.PAID,
    tags: list[str] | None = None,
    total: str = "100.00",
    event_id: uuid.UUID | None = None,
    cancelled: bool = False,
    placed_s: int = 0,
) -> OrderEvent:
    from schemas.orders.models import OrderCancellation

    at = EPOCH + timedelta(seconds=at_s)
    usd = "USD"
    return OrderEvent(
        metadata=EventMetadata(
            event_id=event_id or uuid.uuid5(uuid.NAMESPACE_URL, f"{native_id}/{at_s}/{change}"),
            event_type=f"order.{change.value.lower()}",
            occurred_at=at,
            ingested_at=at,
            source=SourceRef(system="shopify", account="shop", entity="order", native_id=native_id),
        ),
        change=change,
        order=Order(
            order_id=canonical_id("shopify", "shop", "order", native_id),
            channel="shopify",
            account="shop",
            native_id=native_id,
            placed_at=EPOCH + timedelta(seconds=placed_s),
            shipping_address=Address(country_code=country),
            lines=lines,
            shop_currency=usd,
            totals=OrderTotals(
                subtotal=Money.of(total, usd),
                discounts=Money.of("0", usd),
                shipping=Money.of("0", usd),
                tax=Money.of("0", usd),
                total=Money(amount=Decimal(total), currency=usd),
            ),
            financial_status=status,
            tags=tags or [],
            cancellation=OrderCancellation(reason="customer") if cancelled else None,
        ),
    )


def level(sku: str, location: str, on_hand: int, reserved: int = 0, revision: int = 1) -> InventoryLevel:
    return InventoryLevel(
        metadata=EventMetadata(
            event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{sku}@{location}/{revision}"),
            event_type="inventory.level",
            occurred_at=EPOCH,
            ingested_at=EPOCH,
            source=SourceRef(
                system="esb", account="projector", entity="level", native_id=f"{sku}@{location}"
            ),
        ),
        sku=sku,
        location=location,
        on_hand=on_hand,
        reserved=reserved,
        available=on_hand - reserved,
        as_of=EPOCH,
        revision=revision,
    )


@dataclass
class RouterBus:
    """The router deployed on an in-memory bus; decoded outputs by topic."""

    rules: RulesFile = field(default_factory=lambda: parse_rules(RULES))
    settings: RouterSettings = field(default_factory=router_settings)

    def __post_init__(self) -> None:
        self.bus = InMemoryBus()
        self.bus.deploy(build_service(self.settings, self.rules))
        self._levels_seen: dict[tuple[str, str], int] = {}

    def send_order(self, event: OrderEvent) -> None:
        topic = self.settings.orders_topic
        self.bus.publish(topic, self.bus.encode(topic, event), str(event.order.order_id).encode())

    def send_level(self, value: InventoryLevel) -> None:
        topic = self.settings.levels_topic
        self.bus.publish(
            topic, self.bus.encode(topic, value), str(stock_key(value.sku, value.location)).encode()
        )

    def stock(self, sku: str, location: str, on_hand: int) -> None:
        revision = self._levels_seen.get((sku, location), 0) + 1
        self._levels_seen[(sku, location)] = revision
        self.send_level(level(sku, location, on_hand, revision=revision))

    def raw(self, topic: str) -> list[tuple[bytes | None, bytes | None]]:
        return [(r.key, r.value) for r in self.bus.topics[topic]]

    def decoded(self, topic: str) -> list[Any]:
        return [self.bus.decode(topic, r.value) for r in self.bus.topics[topic] if r.value is not None]

    def reservations(self) -> list[ReservationEvent]:
        return list(self.decoded(self.settings.reservations_topic))

    def fulfillment(self) -> list[FulfillmentOrderEvent]:
        return list(self.decoded(self.settings.fulfillment_topic))

    def routed(self) -> list[RoutedOrderEvent]:
        return list(self.decoded(self.settings.routed_topic))

    def dead_letters(self) -> list[Any]:
        return list(self.bus.topics.get(f"dlq.{self.settings.service_name}", []))

    def outstanding(self) -> dict[tuple[str, str], int]:
        """Units held per (sku, location) by the reservation events, folded like the projector does."""
        newest: dict[uuid.UUID, int] = {}
        released: dict[uuid.UUID, int] = defaultdict(int)
        where: dict[uuid.UUID, tuple[str, str]] = {}
        for r in self.reservations():
            where[r.reservation_id] = (r.sku, r.location)
            if r.kind is ReservationKind.RESERVE:
                newest[r.reservation_id] = r.quantity
            else:
                released[r.reservation_id] += r.quantity
        held: dict[tuple[str, str], int] = defaultdict(int)
        for rid, units in newest.items():
            held[where[rid]] += max(units - released[rid], 0)
        return dict(held)

    def latest(self) -> dict[str, RoutedOrderEvent]:
        """The newest routed-order event per order id."""
        out: dict[str, RoutedOrderEvent] = {}
        for routed in self.routed():
            known = out.get(str(routed.order_id))
            if known is None or routed.revision > known.revision:
                out[str(routed.order_id)] = routed
        return out
