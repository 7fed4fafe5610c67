"""Fulfillment, namespace ``com.esb.canonical.fulfillment``: fulfillment orders and shipments."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from schemas.base import AvroRecord, UtcDatetime
from schemas.common.models import Address, EventMetadata

__all__ = [
    "FulfillmentChange",
    "FulfillmentOrderEvent",
    "FulfillmentOrderLine",
    "ShipmentEvent",
    "ShipmentLine",
    "ShipmentStatus",
    "Tracking",
]


class FulfillmentChange(StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    CANCELLED = "CANCELLED"
    CLOSED = "CLOSED"
    UNKNOWN = "UNKNOWN"


class ShipmentStatus(StrEnum):
    PENDING = "PENDING"
    SHIPPED = "SHIPPED"
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"


class FulfillmentOrderLine(AvroRecord):
    order_line_id: str
    sku: str
    quantity: int
    unit_of_measure: str = "EA"


class FulfillmentOrderEvent(AvroRecord):
    """Value of ``canonical.fulfillment-orders.v1``: lines one location ships. Key: fulfillment_order_id."""

    metadata: EventMetadata
    change: FulfillmentChange
    fulfillment_order_id: UUID
    order_id: UUID
    order_native_id: str | None = None
    location: str = Field(description="canonical location code of the shipping warehouse")
    lines: list[FulfillmentOrderLine]
    shipping_address: Address | None = None
    shipping_method: str | None = None
    requested_ship_date: UtcDatetime | None = None


class ShipmentLine(AvroRecord):
    order_line_id: str | None = None
    sku: str
    quantity: int


class Tracking(AvroRecord):
    number: str
    url: str | None = None


class ShipmentEvent(AvroRecord):
    """Value of ``canonical.shipments.v1``. Key: ``shipment_id``."""

    metadata: EventMetadata
    change: FulfillmentChange
    shipment_id: UUID
    order_id: UUID
    fulfillment_order_id: UUID | None = None
    native_id: str
    location: str | None = None
    status: ShipmentStatus = ShipmentStatus.UNKNOWN
    carrier: str | None = None
    service: str | None = None
    tracking: list[Tracking] = Field(default_factory=list)
    lines: list[ShipmentLine] = Field(default_factory=list)
    shipped_at: UtcDatetime | None = None
