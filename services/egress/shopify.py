"""Shopify Admin REST documents: inventory levels (absolute ``available``) and fulfillments.

* ``POST /admin/api/<v>/inventory_levels/set.json`` ``{location_id, inventory_item_id, available}``:
  an absolute level, so a re-delivery sets the same number again (idempotent by nature). Ids are
  64-bit integers written exactly (never through a double). ``available`` is the bus's
  available-to-promise, never negative.
* ``POST /admin/api/<v>/fulfillments.json`` ``{"fulfillment": {line_items_by_fulfillment_order,
  tracking_info: {number, url, company}, notify_customer}}``: Shopify fulfils *fulfillment order*
  line items, whose ids the canonical model does not carry (they exist only in Shopify). The document
  therefore names the *order* line items (``line_items: [{id, quantity}]``, Shopify's order-level
  addressing) and carries the probe ``GET /orders/<id>/fulfillment_orders.json``; the delivery
  connector maps each order line item onto the open fulfillment order line items of that order and
  sends the request in Shopify's 2024-04 shape. One tracking number per fulfillment (Shopify's rule):
  further numbers of the shipment go into ``message``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from schemas.fulfillment.models import FulfillmentChange, ShipmentEvent, ShipmentStatus
from schemas.inventory.models import InventoryLevel
from services.egress import jsondoc
from services.egress.document import EgressDocument, Method
from services.egress.errors import UntranslatableError
from services.egress.keys import external_id, idempotency_key
from services.egress.settings import ShopifyTarget

__all__ = ["DOCUMENT", "OrderLineRef", "fulfillment", "inventory_level"]

SYSTEM = "shopify"
DOCUMENT = "shopify.fulfillment"


def inventory_level(level: InventoryLevel, cfg: ShopifyTarget) -> EgressDocument | None:
    """The shop's level for a mapped SKU at a mapped location; anything unmapped is not on Shopify."""
    location = cfg.location_ids.get(level.location)
    item = cfg.inventory_item_ids.get(level.sku)
    if location is None or item is None:
        return None
    available = level.available_to_promise if level.available_to_promise is not None else level.available
    body = {"location_id": int(location), "inventory_item_id": int(item), "available": max(available, 0)}
    key = f"{item}@{location}"
    version = str(level.revision) if level.revision is not None else str(level.metadata.event_id)
    return EgressDocument(
        system=SYSTEM,
        entity="inventory-levels",
        document_type="shopify.inventoryLevel",
        key=key,
        idempotency_key=idempotency_key("shopify.inventoryLevel", key, version),
        external_id=key,
        account=cfg.account,
        method=Method.POST,
        path=f"/admin/api/{cfg.api_version}/inventory_levels/set.json",
        content_type="application/json",
        body=jsondoc.dumps(body),
    )


@dataclass(frozen=True, slots=True)
class OrderLineRef:
    """One line item of the Shopify order: its id, SKU and ordered units."""

    line_id: str
    sku: str
    quantity: int


def fulfillment(
    shipment: ShipmentEvent, cfg: ShopifyTarget, order_native_id: str, order_lines: Sequence[OrderLineRef]
) -> EgressDocument:
    """A warehouse shipment of a Shopify order as a fulfillment with tracking (see the module doc).

    Shipment lines find their order line by ``order_line_id`` when it is a line of the order, else by
    SKU; anything that does not fit the order (unknown or ambiguous SKU, more units than ordered,
    nothing shipped, a change Shopify's create cannot express) is untranslatable.
    """
    if shipment.change not in (FulfillmentChange.CREATED, FulfillmentChange.UNKNOWN):
        raise UntranslatableError(
            DOCUMENT,
            "change",
            f"{shipment.change.value} needs Shopify's fulfillment id (cancel/update_tracking); only"
            " new shipments become fulfillments",
        )
    if shipment.status is ShipmentStatus.CANCELLED:
        raise UntranslatableError(DOCUMENT, "status", "a cancelled shipment is not a fulfillment")
    order_id = _numeric(order_native_id, "order_id")
    by_id = {line.line_id: line for line in order_lines}
    units: dict[str, int] = {}
    for line in shipment.lines:
        if line.quantity <= 0:
            continue  # a line the warehouse did not ship (945 W1203 = 0)
        target = by_id.get(line.order_line_id or "") or _by_sku(line.sku, order_lines, order_native_id)
        units[target.line_id] = units.get(target.line_id, 0) + line.quantity
    if not units:
        raise UntranslatableError(DOCUMENT, "line_items", "the shipment has no shipped units")
    for line_id, shipped in units.items():
        if shipped > by_id[line_id].quantity:
            raise UntranslatableError(
                DOCUMENT,
                "line_items",
                f"ships {shipped} of line {line_id} (SKU {by_id[line_id].sku!r}) but Shopify order"
                f" {order_native_id} has {by_id[line_id].quantity}",
            )
    body: dict[str, Any] = {
        "notify_customer": cfg.notify_customer,
        # Order line item ids: the connector maps them onto fulfillment order line items (probe).
        "line_items": [
            {"id": _numeric(line_id, "line_items.id"), "quantity": shipped}
            for line_id, shipped in units.items()
        ],
    }
    if shipment.tracking:
        first = shipment.tracking[0]
        tracking: dict[str, Any] = {"number": first.number}
        if first.url:
            tracking["url"] = first.url
        if shipment.carrier:
            tracking["company"] = shipment.carrier
        body["tracking_info"] = tracking
        if len(shipment.tracking) > 1:
            # A Shopify fulfillment has one tracking number and our lines are not per package.
            rest = ", ".join(t.number for t in shipment.tracking[1:])
            body["message"] = f"Further tracking numbers: {rest}"
    key = str(shipment.shipment_id)
    base = f"/admin/api/{cfg.api_version}"
    return EgressDocument(
        system=SYSTEM,
        entity="fulfillments",
        document_type=DOCUMENT,
        key=key,
        idempotency_key=idempotency_key(DOCUMENT, key, str(shipment.metadata.event_id)),
        external_id=external_id("shipment", shipment.shipment_id),
        account=cfg.account,
        method=Method.POST,
        path=f"{base}/fulfillments.json",
        content_type="application/json",
        body=jsondoc.dumps({"fulfillment": body}),
        probe=f"{base}/orders/{order_id}/fulfillment_orders.json",
    )


def _by_sku(sku: str, order_lines: Sequence[OrderLineRef], order_native_id: str) -> OrderLineRef:
    found = [line for line in order_lines if line.sku == sku]
    if len(found) != 1:
        why = "is not on" if not found else f"is on {len(found)} lines of"
        raise UntranslatableError(
            DOCUMENT, "line_items", f"SKU {sku!r} {why} Shopify order {order_native_id}"
        )
    return found[0]


def _numeric(value: str, field: str) -> int:
    """Shopify REST ids are 64-bit integers; a gid or a name (#1001) here is a mapping error."""
    if not value.isdigit():
        raise UntranslatableError(DOCUMENT, field, f"{value!r} is not a Shopify numeric id")
    return int(value)
