"""Every top-level canonical event (one per ``canonical.*`` topic value), for tooling and tests."""

from __future__ import annotations

from schemas.base import AvroRecord
from schemas.customers import (
    CrosswalkEntry,
    CustomerEvent,
    CustomerMatchReview,
    CustomerMergeEvent,
    CustomerStewardCommand,
    ErasureRequest,
    GoldenCustomer,
)
from schemas.fulfillment import FulfillmentOrderEvent, ShipmentEvent
from schemas.inventory import (
    ChannelAvailability,
    InventoryAlert,
    InventoryLevel,
    ReservationEvent,
    StockMovementEvent,
)
from schemas.ledger import FxRate, JournalEntryEvent, PayoutReconciliationEvent
from schemas.orders import OrderEvent, RoutedOrderEvent
from schemas.payments import PaymentEvent
from schemas.returns import ReturnEvent

__all__ = ["EVENTS", "event_model"]

EVENTS: tuple[type[AvroRecord], ...] = (
    OrderEvent,
    PaymentEvent,
    ReturnEvent,
    StockMovementEvent,
    ReservationEvent,
    InventoryLevel,
    ChannelAvailability,
    InventoryAlert,
    FulfillmentOrderEvent,
    ShipmentEvent,
    RoutedOrderEvent,
    CustomerEvent,
    GoldenCustomer,
    CustomerMergeEvent,
    CrosswalkEntry,
    ErasureRequest,
    CustomerMatchReview,
    CustomerStewardCommand,
    JournalEntryEvent,
    PayoutReconciliationEvent,
    FxRate,
)

_BY_NAME = {model.avro_name(): model for model in EVENTS}


def event_model(avro_name: str) -> type[AvroRecord]:
    """The model of a top-level record, by full Avro name (``com.esb.canonical.orders.OrderEvent``)."""
    try:
        return _BY_NAME[avro_name]
    except KeyError:
        raise KeyError(f"no canonical event named {avro_name}") from None
