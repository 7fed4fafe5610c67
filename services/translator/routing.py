"""Where each canonical event goes: its topics and their keys.

Keys follow the catalog (``catalog/topics.yaml``): the entity's canonical id as a string, so every
event of one order, payment or stock position stays in order on one partition. A contract test
checks this table against the catalog.

An event type's first destination is its entity's topic; a further one carries the same value under
another key: stock movements also go to ``canonical.stock-movements.v2`` keyed by SKU (what the
inventory projector reads), while ``.v1`` (keyed by stock position) stays for its other consumers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas.base import AvroRecord
from schemas.customers import CustomerEvent
from schemas.fulfillment import FulfillmentOrderEvent, ShipmentEvent
from schemas.ids import stock_key
from schemas.inventory import InventoryLevel, StockMovementEvent
from schemas.ledger import JournalEntryEvent
from schemas.orders import OrderEvent
from schemas.payments import PaymentEvent
from schemas.returns import ReturnEvent

__all__ = ["DESTINATIONS", "Destination", "destination_of", "destinations_of", "output_topics"]


@dataclass(frozen=True, slots=True)
class Destination:
    topic: str
    key: Callable[[Any], str]


DESTINATIONS: dict[type[AvroRecord], tuple[Destination, ...]] = {
    OrderEvent: (Destination("canonical.orders.v1", lambda e: str(e.order.order_id)),),
    PaymentEvent: (Destination("canonical.payments.v1", lambda e: str(e.payment_id)),),
    ReturnEvent: (Destination("canonical.returns.v1", lambda e: str(e.return_id)),),
    StockMovementEvent: (
        Destination("canonical.stock-movements.v1", lambda e: str(stock_key(e.sku, e.location))),
        Destination("canonical.stock-movements.v2", lambda e: e.sku),
    ),
    InventoryLevel: (
        Destination("canonical.inventory-levels.v1", lambda e: str(stock_key(e.sku, e.location))),
    ),
    ShipmentEvent: (Destination("canonical.shipments.v1", lambda e: str(e.shipment_id)),),
    FulfillmentOrderEvent: (
        Destination("canonical.fulfillment-orders.v1", lambda e: str(e.fulfillment_order_id)),
    ),
    CustomerEvent: (Destination("canonical.customers.v1", lambda e: str(e.customer.customer_id)),),
    JournalEntryEvent: (Destination("canonical.journal-entries.v1", lambda e: str(e.entry_id)),),
}


def destinations_of(event: AvroRecord) -> tuple[Destination, ...]:
    """Every topic ``event`` is written to, with its key there."""
    try:
        return DESTINATIONS[type(event)]
    except KeyError:
        raise TypeError(f"no canonical topic for {type(event).__name__}") from None


def destination_of(event: AvroRecord) -> Destination:
    """The event's first destination: its entity's topic (what a compiled fast path keys for)."""
    return destinations_of(event)[0]


def output_topics() -> list[tuple[type[AvroRecord], str]]:
    """Every (event type, topic) the translator writes."""
    return [(model, d.topic) for model, destinations in DESTINATIONS.items() for d in destinations]
