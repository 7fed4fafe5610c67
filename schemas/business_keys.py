"""The business keys of a canonical event, as span attributes an SRE can search traces by.

``{"esb.order_id": "…", "esb.sku": "…"}``: the canonical ids a person asks about ("what happened
to order #1001?"), taken from the event and from the order it wraps.
"""

from __future__ import annotations

from typing import Any

__all__ = ["business_keys"]

_ATTRIBUTES = {
    "order_id": "esb.order_id",
    "display_number": "esb.order_number",
    "payment_id": "esb.payment_id",
    "return_id": "esb.return_id",
    "shipment_id": "esb.shipment_id",
    "fulfillment_order_id": "esb.fulfillment_order_id",
    "sku": "esb.sku",
    "location": "esb.location",
    "customer_id": "esb.customer_id",
    "golden_id": "esb.golden_customer_id",
    "entry_id": "esb.journal_entry_id",
}


def business_keys(event: Any) -> dict[str, str]:
    """Span attributes for ``event`` (a canonical model, or anything else: then none)."""
    keys: dict[str, str] = {}
    for holder in (event, getattr(event, "order", None), getattr(event, "customer", None)):
        if holder is None:
            continue
        for field, attribute in _ATTRIBUTES.items():
            value = getattr(holder, field, None)
            if value is not None and attribute not in keys:
                keys[attribute] = str(value)
    return keys
