"""X12 856 (ship notice) and 945 (warehouse shipping advice) -> ``ShipmentEvent``.

856: the HL tree S(hipment) > O(rder) > I(tem); one event per O level (a ``ShipmentEvent`` belongs to one
order), items with LIN ids and SN102 shipped quantities; CTT01 must count the HLs and CTT02 the units.
945: W06 (depositor order W0602, shipment id W0604), W12 per line (ordered W1202, shipped W1203,
difference W1204 — checked), W03 total units (checked). Both key the order by its PO/depositor number.
"""

from __future__ import annotations

from decimal import Decimal

from schemas.fulfillment.models import (
    FulfillmentChange,
    ShipmentEvent,
    ShipmentLine,
    ShipmentStatus,
    Tracking,
)
from services.translator.adapters.edi_x12.common import EdiSettings, instant, parties, sku_of
from services.translator.adapters.edi_x12.envelope import Segment, Transaction
from services.translator.convert import build, canonical, whole
from services.translator.errors import MISSING, TranslationError
from services.translator.ingress import IngressRecord
from services.translator.metadata import event_metadata

__all__ = ["ship_notice", "shipping_advice"]


def _hl_groups(transaction: Transaction) -> list[tuple[Segment, list[Segment]]]:
    groups: list[tuple[Segment, list[Segment]]] = []
    for segment in transaction.segments:
        if segment.tag == "HL":
            groups.append((segment, []))
        elif groups and segment.tag != "CTT":
            groups[-1][1].append(segment)
    return groups


def ship_notice(
    record: IngressRecord, transaction: Transaction, settings: EdiSettings
) -> list[ShipmentEvent]:
    bsn = transaction.require("BSN")
    shipment_no = bsn.text(2)
    groups = _hl_groups(transaction)
    levels = {hl.text(1): (hl, body) for hl, body in groups}
    shipment = next(((hl, body) for hl, body in groups if hl.opt(3) == "S"), None)
    if shipment is None:
        raise TranslationError(bsn.path(), "an HL shipment level (HL03 S)", MISSING)
    s_body = shipment[1]
    dtm = next((seg for seg in s_body if seg.tag == "DTM" and seg.opt(1) == "011"), None)
    shipped_at = instant(settings, dtm.date8(2)) if dtm else instant(settings, bsn.date8(3), bsn.opt_time(4))
    td5 = next((seg for seg in s_body if seg.tag == "TD5"), None)
    tracking = [
        Tracking(number=seg.text(2)) for seg in s_body if seg.tag == "REF" and seg.opt(1) in ("CN", "2I")
    ]
    ship_from = parties(transaction, s_body)
    origin = ship_from.get("SF") or ship_from.get("SH")
    location = settings.locations.get(origin.code, origin.code) if origin and origin.code else None

    def order_of(hl: Segment) -> Segment | None:
        seen = 0
        while hl.opt(3) != "O" and hl.opt(2) in levels and seen < len(levels):
            hl, seen = levels[hl.text(2)][0], seen + 1
        return hl if hl.opt(3) == "O" else None

    lines: dict[str, list[ShipmentLine]] = {}
    units = Decimal(0)
    for hl, body in groups:
        if hl.opt(3) != "I":
            continue
        order_hl = order_of(hl)
        lin = next((seg for seg in body if seg.tag == "LIN"), None)
        sn1 = next((seg for seg in body if seg.tag == "SN1"), None)
        if order_hl is None or lin is None or sn1 is None:
            raise TranslationError(hl.path(), "an item HL under an order HL with LIN and SN1", MISSING)
        sku = sku_of(lin.pairs(2))
        if sku is None:
            raise TranslationError(lin.path(2), "a product id pair (VP, UP, BP...)", MISSING)
        units += sn1.decimal(2)
        lines.setdefault(order_hl.text(1), []).append(
            ShipmentLine(order_line_id=lin.opt(1), sku=sku, quantity=whole(sn1.decimal(2), sn1.path(2)))
        )
    ctt = transaction.first("CTT")
    if ctt is not None:
        if ctt.decimal(1) != len(groups):
            raise TranslationError(ctt.path(1), f"{len(groups)} HL segments", ctt.text(1))
        if ctt.opt_decimal(2) is not None and ctt.decimal(2) != units:
            raise TranslationError(ctt.path(2), f"SN102 hash total {units}", ctt.text(2))
    events: list[ShipmentEvent] = []
    for hl, body in groups:
        if hl.opt(3) != "O":
            continue
        prf = next((seg for seg in body if seg.tag == "PRF"), None)
        if prf is None:
            raise TranslationError(hl.path(), "a PRF (purchase order) in the order level", MISSING)
        po_number = prf.text(1)
        native_id = f"{shipment_no}/{po_number}"
        events.append(
            build(
                ShipmentEvent,
                hl.path(),
                metadata=event_metadata(
                    record,
                    event_type="shipment.shipped",
                    entity="856",
                    native_id=native_id,
                    occurred_at=shipped_at,
                ),
                change=FulfillmentChange.CREATED,
                shipment_id=canonical(record, "shipment", native_id),
                order_id=canonical(record, "order", po_number, prf.path(1)),
                native_id=native_id,
                location=location,
                status=ShipmentStatus.SHIPPED,
                carrier=td5.opt(3) if td5 else None,
                service=td5.opt(5) if td5 else None,
                tracking=tracking,
                lines=lines.get(hl.text(1), []),
                shipped_at=shipped_at,
            )
        )
    if not events:
        raise TranslationError(bsn.path(), "an HL order level (HL03 O)", MISSING)
    return events


def shipping_advice(record: IngressRecord, transaction: Transaction, settings: EdiSettings) -> ShipmentEvent:
    w06 = transaction.require("W06")
    order_no = w06.text(2)
    shipment_no = w06.opt(4) or order_no
    lines: list[ShipmentLine] = []
    shipped_total = Decimal(0)
    line_id: str | None = None
    for segment in transaction.segments:
        if segment.tag == "LX":
            line_id = segment.opt(1)
        elif segment.tag == "W12":
            ordered, shipped, difference = segment.opt_decimal(2), segment.decimal(3), segment.opt_decimal(4)
            if ordered is not None and difference is not None and ordered - shipped != difference:
                raise TranslationError(
                    segment.path(4), f"W1202 - W1203 = {ordered - shipped}", segment.text(4)
                )
            sku = sku_of(segment.pairs(7)) or segment.opt(6)
            if sku is None:
                raise TranslationError(segment.path(7), "a product id (W1206 UPC or W1207/W1208)", MISSING)
            shipped_total += shipped
            lines.append(
                ShipmentLine(order_line_id=line_id, sku=sku, quantity=whole(shipped, segment.path(3)))
            )
    if not lines:
        raise TranslationError(w06.path(), "at least one W12 line", "none")
    w03 = transaction.first("W03")
    if w03 is not None and w03.decimal(1) != shipped_total:
        raise TranslationError(w03.path(1), f"W1203 total {shipped_total}", w03.text(1))
    g62 = next((seg for seg in transaction.all("G62") if seg.opt(1) == "11"), None)
    shipped_at = instant(settings, g62.date8(2), g62.opt_time(4)) if g62 else instant(settings, w06.date8(3))
    origin = parties(transaction).get("SF")
    w27 = transaction.first("W27")
    return build(
        ShipmentEvent,
        w06.path(),
        metadata=event_metadata(
            record, event_type="shipment.shipped", entity="945", native_id=shipment_no, occurred_at=shipped_at
        ),
        change=FulfillmentChange.CREATED,
        shipment_id=canonical(record, "shipment", shipment_no),
        order_id=canonical(record, "order", order_no, w06.path(2)),
        fulfillment_order_id=canonical(record, "fulfillment-order", order_no, w06.path(2)),
        native_id=shipment_no,
        location=settings.locations.get(origin.code, origin.code) if origin and origin.code else None,
        status=ShipmentStatus.SHIPPED,
        carrier=w27.opt(2) if w27 else None,
        service=w27.opt(3) if w27 else None,
        lines=lines,
        shipped_at=shipped_at,
    )
