"""Canonical inventory events."""

from schemas.inventory.models import (
    ChannelAvailability,
    InventoryAlert,
    InventoryAlertKind,
    InventoryLevel,
    MovementKind,
    ReservationEvent,
    ReservationKind,
    StockMovementEvent,
)

__all__ = [
    "ChannelAvailability",
    "InventoryAlert",
    "InventoryAlertKind",
    "InventoryLevel",
    "MovementKind",
    "ReservationEvent",
    "ReservationKind",
    "StockMovementEvent",
]
