"""Amazon SP-API notifications (SQS/EventBridge envelope, or the bare ``Payload``).

* ``FBA_INVENTORY_AVAILABILITY_CHANGES`` -> one ABSOLUTE_COUNT StockMovementEvent per marketplace: Amazon's
  fulfillment network is the warehouse, so its figures are the level (fulfillable = available,
  reserved = the three reserved buckets, on hand = both). Inbound, unfulfillable and researching
  units are not on hand for selling and have no canonical field.
* ``ORDER_CHANGE`` is rejected on purpose: it is a summary without prices or currency, from which
  no whole order can be stated. It tells the SP-API poller to re-fetch the order (getOrder +
  getOrderItems) and publish that to ``ingress.amazon.orders``.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.inventory.models import StockMovementEvent
from services.translator.adapters._common import absolute_count, document, location_code, quantity, route
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode
from services.translator.metadata import event_metadata

__all__ = ["translate_notifications"]

SYSTEM = "amazon"
FBA_INVENTORY = "FBA_INVENTORY_AVAILABILITY_CHANGES"
RESERVED = ("PendingCustomerOrder", "WarehouseTransfer", "WarehouseProcessing")


@route
def translate_notifications(record: IngressRecord) -> Sequence[StockMovementEvent]:
    root = document(record)
    if root["NotificationType"].is_absent and root["FulfillmentInventoryByMarketplace"].is_present:
        return _fba_levels(record, root, None, root["SellerId"].opt_text())
    kind = root["NotificationType"].text()
    if kind == FBA_INVENTORY:
        payload = root["Payload"]
        return _fba_levels(record, payload, root["EventTime"], payload["SellerId"].opt_text())
    if kind == "ORDER_CHANGE":
        raise TranslationError(
            root["Payload"].path,
            "a priced order (getOrder + getOrderItems on ingress.amazon.orders)",
            "an ORDER_CHANGE summary without prices or currency",
            "ORDER_CHANGE only triggers the poller to re-fetch the order",
        )
    raise TranslationError(root["NotificationType"].path, f"{FBA_INVENTORY} (or ORDER_CHANGE)", kind)


def _fba_levels(
    record: IngressRecord, payload: JsonNode, event_time: JsonNode | None, seller: str | None
) -> list[StockMovementEvent]:
    sku = payload["SKU"].text()
    as_of = (event_time.opt_timestamp() if event_time else None) or record.received_at
    levels = []
    for market in payload["FulfillmentInventoryByMarketplace"].items():
        marketplace = market["MarketplaceId"].text()
        inventory = market["FulfillmentInventory"]
        available = quantity(inventory["Fulfillable"])
        breakdown = inventory["ReservedQuantityBreakdown"]
        reserved = sum(quantity(breakdown[key]) for key in RESERVED if breakdown[key].is_present)
        metadata = event_metadata(
            record,
            event_type="inventory.level",
            entity="fba_inventory",
            native_id=f"{seller or record.account}/{sku}@{marketplace}",
            occurred_at=as_of,
            discriminator=marketplace,
        )
        # On hand at the fulfillment network: sellable plus what Amazon holds for orders in process.
        levels.append(
            absolute_count(
                metadata,
                sku=sku,
                location=location_code(SYSTEM, f"fba:{marketplace}"),
                on_hand=available + reserved,
                reason="amazon fba fulfillable + reserved",
            )
        )
    return levels
