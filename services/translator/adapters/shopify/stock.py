"""Shopify inventory levels -> ABSOLUTE_COUNT StockMovementEvent, fulfillments -> ShipmentEvent.

An inventory level names an ``inventory_item_id``, not a SKU or variant; without an enrichment
step (a ``sku`` field added by the ingester) the stock position is keyed by that item id.
Shopify's ``available`` is on hand minus committed; committed is not in the payload, so the level
is published as the channel's sellable view (on_hand = available, reserved = 0).
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.fulfillment.models import (
    FulfillmentChange,
    ShipmentEvent,
    ShipmentLine,
    ShipmentStatus,
    Tracking,
)
from schemas.inventory.models import StockMovementEvent
from services.translator.adapters._common import (
    absolute_count,
    canonical,
    change_is_new,
    document,
    item_key,
    location_code,
    quantity,
    route,
    unwrap,
)
from services.translator.adapters.shopify._shared import SYSTEM
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode
from services.translator.metadata import event_metadata

__all__ = ["translate_fulfillments", "translate_inventory_levels"]

SHIPMENT_STATUS = {
    "pending": ShipmentStatus.PENDING,
    "open": ShipmentStatus.PENDING,
    "success": ShipmentStatus.SHIPPED,
    "cancelled": ShipmentStatus.CANCELLED,
    "error": ShipmentStatus.FAILED,
    "failure": ShipmentStatus.FAILED,
}
# shipment_status is the carrier's word and wins over the fulfillment's own status.
CARRIER_STATUS = {
    "label_printed": ShipmentStatus.PENDING,
    "label_purchased": ShipmentStatus.PENDING,
    "confirmed": ShipmentStatus.SHIPPED,
    "ready_for_pickup": ShipmentStatus.IN_TRANSIT,
    "in_transit": ShipmentStatus.IN_TRANSIT,
    "out_for_delivery": ShipmentStatus.IN_TRANSIT,
    "delivered": ShipmentStatus.DELIVERED,
    "attempted_delivery": ShipmentStatus.IN_TRANSIT,
    "failure": ShipmentStatus.FAILED,
}


@route
def translate_inventory_levels(record: IngressRecord) -> Sequence[StockMovementEvent]:
    return [_level(record, node) for node in unwrap(document(record), "inventory_level", "inventory_levels")]


def _level(record: IngressRecord, node: JsonNode) -> StockMovementEvent:
    item = node["inventory_item_id"].text()
    location = node["location_id"].text()
    available = quantity(node["available"]) if node["available"].is_present else 0
    as_of = node["updated_at"].opt_timestamp() or record.received_at
    sku = item_key(node["sku"].opt_text(), SYSTEM, "inventory_item", item, node)
    metadata = event_metadata(
        record,
        event_type="inventory.level",
        entity="inventory_level",
        native_id=f"{item}@{location}",
        occurred_at=as_of,
    )
    # Shopify's `available` already excludes what its own orders committed: it is the sellable count.
    return absolute_count(
        metadata,
        sku=sku,
        location=location_code(SYSTEM, location),
        on_hand=available,
        reason="shopify available",
    )


@route
def translate_fulfillments(record: IngressRecord) -> Sequence[ShipmentEvent]:
    return [_shipment(record, node) for node in unwrap(document(record), "fulfillment", "fulfillments")]


def _shipment(record: IngressRecord, node: JsonNode) -> ShipmentEvent:
    native_id = node["id"].text()
    created_at = node["created_at"].timestamp()
    updated_at = node["updated_at"].opt_timestamp()
    status = SHIPMENT_STATUS.get(node["status"].opt_text() or "", ShipmentStatus.UNKNOWN)
    status = CARRIER_STATUS.get(node["shipment_status"].opt_text() or "", status)
    if status is ShipmentStatus.CANCELLED:
        change = FulfillmentChange.CANCELLED
    elif record.provider_topic == "fulfillments/create" or (
        record.provider_topic is None and change_is_new(created_at, updated_at)
    ):
        change = FulfillmentChange.CREATED
    else:
        change = FulfillmentChange.UPDATED
    numbers = [n.text() for n in node["tracking_numbers"].items()] or (
        [node["tracking_number"].text()] if node["tracking_number"].is_present else []
    )
    urls = [u.opt_text() for u in node["tracking_urls"].items()]
    location = node["location_id"].opt_text()
    metadata = event_metadata(
        record,
        event_type=f"shipment.{change.lower()}",
        entity="fulfillment",
        native_id=native_id,
        occurred_at=updated_at or created_at,
    )
    return ShipmentEvent(
        metadata=metadata,
        change=change,
        shipment_id=canonical(record, "fulfillment", native_id),
        order_id=canonical(record, "order", node["order_id"].text()),
        native_id=native_id,
        location=location_code(SYSTEM, location) if location else None,
        status=status,
        carrier=node["tracking_company"].opt_text(),
        service=node["service"].opt_text(),
        tracking=[
            Tracking(number=number, url=urls[i] if i < len(urls) else None)
            for i, number in enumerate(numbers)
        ],
        lines=[_shipment_line(line) for line in node["line_items"].items()],
        shipped_at=created_at,
    )


def _shipment_line(node: JsonNode) -> ShipmentLine:
    variant = node["variant_id"].opt_text()
    return ShipmentLine(
        order_line_id=node["id"].opt_text(),
        sku=item_key(node["sku"].opt_text(), SYSTEM, "variant", variant or node["id"].opt_text(), node),
        quantity=quantity(node["quantity"]),
    )
