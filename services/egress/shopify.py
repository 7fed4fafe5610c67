"""Shopify Admin REST documents: inventory levels (absolute ``available``) and fulfillments.

* ``POST /admin/api/<v>/inventory_levels/set.json`` ``{location_id, inventory_item_id, available}``:
  an absolute level, so a re-delivery sets the same number again (idempotent by nature). Ids are
  64-bit integers written exactly (never through a double). ``available`` is the bus's
  available-to-promise, never negative.
* ``POST /admin/api/<v>/fulfillments.json`` with ``line_items_by_fulfillment_order`` and
  ``tracking_info``: Shopify fulfils *fulfillment order* lines, so the caller passes the mapping
  from the order's line item ids to (fulfillment order id, fulfillment order line item id), read from
  ``GET /orders/<id>/fulfillment_orders.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.fulfillment.models import ShipmentEvent
from schemas.inventory.models import InventoryLevel
from services.egress import jsondoc
from services.egress.document import EgressDocument, Method
from services.egress.errors import UntranslatableError
from services.egress.keys import external_id, idempotency_key
from services.egress.settings import ShopifyTarget

__all__ = ["FulfillmentOrderLine", "fulfillment", "inventory_level"]

SYSTEM = "shopify"

FulfillmentOrderLine = tuple[int, int]  # (fulfillment_order_id, fulfillment order line item id)


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


def fulfillment(
    shipment: ShipmentEvent,
    cfg: ShopifyTarget,
    fulfillment_order_lines: Mapping[str, FulfillmentOrderLine],
) -> EgressDocument:
    """A shipment from a warehouse as a Shopify fulfillment with tracking."""
    document = "shopify.fulfillment"
    grouped: dict[int, list[dict[str, Any]]] = {}
    for line in shipment.lines:
        target = fulfillment_order_lines.get(line.order_line_id or "")
        if target is None:
            raise UntranslatableError(
                document,
                "line_items_by_fulfillment_order",
                f"line {line.order_line_id!r} has no fulfillment order",
            )
        grouped.setdefault(target[0], []).append({"id": target[1], "quantity": line.quantity})
    body: dict[str, Any] = {
        "fulfillment": {
            "notify_customer": cfg.notify_customer,
            "line_items_by_fulfillment_order": [
                {"fulfillment_order_id": order_id, "fulfillment_order_line_items": items}
                for order_id, items in grouped.items()
            ],
        }
    }
    if shipment.tracking:
        tracking: dict[str, Any] = {"number": shipment.tracking[0].number}
        if shipment.tracking[0].url:
            tracking["url"] = shipment.tracking[0].url
        if shipment.carrier:
            tracking["company"] = shipment.carrier
        body["fulfillment"]["tracking_info"] = tracking
    key = str(shipment.shipment_id)
    return EgressDocument(
        system=SYSTEM,
        entity="fulfillments",
        document_type=document,
        key=key,
        idempotency_key=idempotency_key(document, key, str(shipment.metadata.event_id)),
        external_id=external_id("shipment", shipment.shipment_id),
        account=cfg.account,
        method=Method.POST,
        path=f"/admin/api/{cfg.api_version}/fulfillments.json",
        content_type="application/json",
        body=jsondoc.dumps(body),
    )
