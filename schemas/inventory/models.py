"""Inventory, namespace ``com.esb.canonical.inventory``: stock movements, reservations, levels.

Every inventory topic is keyed by ``schemas.ids.stock_key(sku, location)`` so one stock position's
events stay in order on one partition.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from schemas.base import AvroRecord, UtcDatetime
from schemas.common.models import DocumentRef, EventMetadata, Money

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


class MovementKind(StrEnum):
    RECEIPT = "RECEIPT"
    ADJUSTMENT = "ADJUSTMENT"
    TRANSFER_OUT = "TRANSFER_OUT"
    TRANSFER_IN = "TRANSFER_IN"
    SHIPMENT = "SHIPMENT"
    RETURN_RESTOCK = "RETURN_RESTOCK"
    ABSOLUTE_COUNT = "ABSOLUTE_COUNT"
    UNKNOWN = "UNKNOWN"


class ReservationKind(StrEnum):
    RESERVE = "RESERVE"
    RELEASE = "RELEASE"
    COMMIT = "COMMIT"
    UNKNOWN = "UNKNOWN"


class StockMovementEvent(AvroRecord):
    """Value of ``canonical.stock-movements.v1``. Key: ``stock_key(sku, location)``."""

    metadata: EventMetadata
    movement_id: UUID = Field(description="canonical id of the movement; replays are idempotent on it")
    kind: MovementKind
    sku: str
    location: str = Field(description="canonical location code")
    quantity: int = Field(
        description="signed delta in units; for ABSOLUTE_COUNT the counted on-hand level (not a delta)"
    )
    unit_of_measure: str = "EA"
    counterparty_location: str | None = Field(default=None, description="the other side of a transfer")
    reference: DocumentRef | None = Field(default=None, description="order, transfer, receipt, return...")
    reason: str | None = None
    unit_cost: Money | None = None
    source_sequence: int | None = Field(
        default=None,
        description="ABSOLUTE_COUNT: the source's increasing count sequence; orders counts of one instant",
    )


class ReservationEvent(AvroRecord):
    """Value of ``canonical.reservations.v1``. Key: ``stock_key(sku, location)``."""

    metadata: EventMetadata
    reservation_id: UUID = Field(description="canonical id of the reservation (per order line and location)")
    kind: ReservationKind
    sku: str
    location: str
    quantity: int = Field(description="positive units reserved, released or committed")
    order_id: UUID | None = None
    order_line_id: str | None = None
    expires_at: UtcDatetime | None = None


class InventoryLevel(AvroRecord):
    """Value of the compacted ``canonical.inventory-levels.v1``: the latest level per stock position."""

    metadata: EventMetadata
    sku: str
    location: str
    on_hand: int
    reserved: int
    available: int = Field(description="on_hand - reserved, never below zero when published to channels")
    as_of: UtcDatetime
    safety_stock: int | None = Field(default=None, description="units held back from promising")
    available_to_promise: int | None = Field(
        default=None, description="max(on_hand - reserved - safety_stock, 0): what channels may promise"
    )
    revision: int | None = Field(
        default=None, description="increases by one with every published change of this stock position"
    )


class InventoryAlertKind(StrEnum):
    OVERSELL = "OVERSELL"
    COUNT_DRIFT = "COUNT_DRIFT"
    STALE_COUNT = "STALE_COUNT"
    UNKNOWN = "UNKNOWN"


class InventoryAlert(AvroRecord):
    """Value of ``canonical.inventory-alerts.v1``. Key: ``stock_key(sku, location)``."""

    metadata: EventMetadata
    kind: InventoryAlertKind
    sku: str
    location: str
    on_hand: int
    reserved: int
    safety_stock: int
    shortfall: int | None = Field(
        default=None, description="OVERSELL: units promised beyond what can be promised (positive)"
    )
    counted: int | None = Field(default=None, description="COUNT_DRIFT/STALE_COUNT: the counted on-hand")
    expected: int | None = Field(
        default=None, description="COUNT_DRIFT: on-hand at the count's instant from the movements"
    )
    drift: int | None = Field(default=None, description="COUNT_DRIFT: counted - expected")
    threshold: int | None = Field(default=None, description="COUNT_DRIFT: the configured tolerance")
    cause_id: str | None = Field(default=None, description="movement or reservation id that raised it")


class ChannelAvailability(AvroRecord):
    """Value of the compacted ``canonical.channel-availability.v1``. Key: ``channel_stock_key(sku, channel)``.

    ``available`` is the sum of available-to-promise over the channel's locations minus the channel
    buffer, never below zero.
    """

    metadata: EventMetadata
    sku: str
    channel: str
    available: int
    buffer: int
    locations: list[str] = Field(default_factory=list, description="locations that serve the channel")
    as_of: UtcDatetime
