"""X12 940 warehouse shipping order -> ``FulfillmentOrderEvent``.

W05: status (N new, C cancel, R replace), W0502 depositor order number (the fulfillment order's id and
the order it fulfils), W0503 PO. N1 WH is the shipping warehouse (the location), N1 ST the ship-to.
LX/W01 lines: W0101 quantity, W0102 UOM, W0103 UPC case code, then (qualifier, id) pairs from W0104.
G62 10 is the requested ship date; W66 the carrier (W6605 SCAC) or transport method; W7601 the total
quantity (checked).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from schemas.fulfillment.models import FulfillmentChange, FulfillmentOrderEvent, FulfillmentOrderLine
from services.translator.adapters.edi_x12.common import EdiSettings, instant, parties, sku_of
from services.translator.adapters.edi_x12.envelope import Transaction
from services.translator.convert import build, canonical, whole
from services.translator.errors import MISSING, TranslationError
from services.translator.ingress import IngressRecord
from services.translator.metadata import event_metadata

__all__ = ["STATUSES", "warehouse_order"]

STATUSES: Mapping[str, FulfillmentChange] = {
    "N": FulfillmentChange.CREATED,
    "F": FulfillmentChange.CREATED,
    "R": FulfillmentChange.UPDATED,
    "C": FulfillmentChange.CANCELLED,
}
"""W0501 order status code -> change."""


def warehouse_order(
    record: IngressRecord, transaction: Transaction, settings: EdiSettings
) -> FulfillmentOrderEvent:
    w05 = transaction.require("W05")
    change = STATUSES.get(w05.text(1))
    if change is None:
        raise TranslationError(w05.path(1), f"one of {sorted(STATUSES)}", w05.text(1))
    order_no = w05.text(2)
    party = parties(transaction)
    warehouse = party.get("WH")
    if warehouse is None or warehouse.code is None:
        raise TranslationError(w05.path(), "an N1*WH warehouse", MISSING)
    lines: list[FulfillmentOrderLine] = []
    total = Decimal(0)
    line_id: str | None = None
    for segment in transaction.segments:
        if segment.tag == "LX":
            line_id = segment.opt(1)
        elif segment.tag == "W01":
            sku = sku_of(segment.pairs(4)) or segment.opt(3)
            if sku is None:
                raise TranslationError(segment.path(4), "a product id (W0103 UPC or W0104/W0105)", MISSING)
            total += segment.decimal(1)
            lines.append(
                FulfillmentOrderLine(
                    order_line_id=line_id or str(len(lines) + 1),
                    sku=sku,
                    quantity=whole(segment.decimal(1), segment.path(1)),
                    unit_of_measure=segment.opt(2) or "EA",
                )
            )
    if not lines:
        raise TranslationError(w05.path(), "at least one W01 line", "none")
    w76 = transaction.first("W76")
    if w76 is not None and w76.decimal(1) != total:
        raise TranslationError(w76.path(1), f"W0101 total {total}", w76.text(1))
    requested = next((seg for seg in transaction.all("G62") if seg.opt(1) == "10"), None)
    w66 = transaction.first("W66")
    occurred_at = instant(settings, requested.date8(2)) if requested else None
    return build(
        FulfillmentOrderEvent,
        w05.path(),
        metadata=event_metadata(
            record,
            event_type=f"fulfillment_order.{change.value.lower()}",
            entity="940",
            native_id=order_no,
            occurred_at=occurred_at or record.received_at,
            discriminator=transaction.control_number,
        ),
        change=change,
        fulfillment_order_id=canonical(record, "fulfillment-order", order_no, w05.path(2)),
        order_id=canonical(record, "order", order_no, w05.path(2)),
        order_native_id=order_no,
        location=settings.locations.get(warehouse.code, warehouse.code),
        lines=lines,
        shipping_address=party["ST"].address if "ST" in party else None,
        shipping_method=(w66.opt(5) or w66.opt(2)) if w66 else None,
        requested_ship_date=occurred_at,
    )
