"""Canonical fulfillment events."""

from schemas.fulfillment.models import (
    FulfillmentChange,
    FulfillmentOrderEvent,
    FulfillmentOrderLine,
    ShipmentEvent,
    ShipmentLine,
    ShipmentStatus,
    Tracking,
)

__all__ = [
    "FulfillmentChange",
    "FulfillmentOrderEvent",
    "FulfillmentOrderLine",
    "ShipmentEvent",
    "ShipmentLine",
    "ShipmentStatus",
    "Tracking",
]
