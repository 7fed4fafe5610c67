"""X12 850 purchase order -> ``OrderEvent`` (a B2B order placed by the trading partner).

BEG03 is the PO number (the order's native id), BEG05 its date; PO1 are the lines (qty, UOM, unit
price type R, then (qualifier, id) pairs), PID05 the description. Currency: CUR02, else the partner's
``EdiSettings.default_currency``. CTT01 (line count), CTT02 (quantity hash) and AMT (total) are
checked against the lines. Header allowances/charges and taxes (SAC, TXI) are not mapped yet and are
rejected rather than dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from schemas.orders.models import CustomerSnapshot, Order, OrderChange, OrderEvent, OrderLine, OrderTotals
from services.translator.adapters.edi_x12.common import EdiSettings, instant, parties, sku_of
from services.translator.adapters.edi_x12.envelope import Segment, Transaction
from services.translator.convert import build, canonical, currency_code, money, whole
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.metadata import event_metadata

__all__ = ["PURPOSES", "purchase_order"]

PURPOSES: Mapping[str, OrderChange] = {
    "00": OrderChange.PLACED,
    "01": OrderChange.CANCELLED,
    "04": OrderChange.UPDATED,
    "05": OrderChange.UPDATED,
    "07": OrderChange.UPDATED,
}
"""BEG01 transaction set purpose -> change."""


def _line(po1: Segment, description: str | None, currency: str) -> OrderLine:
    ids = list(po1.pairs(6))
    buyer = dict(ids)
    return OrderLine(
        line_id=po1.text(1),
        sku=sku_of(ids),
        product_id=buyer.get("UP") or buyer.get("EN"),
        title=description or sku_of(ids) or po1.text(1),
        quantity=whole(po1.decimal(2), po1.path(2)),
        unit_of_measure=po1.opt(3) or "EA",
        unit_price=money(po1.decimal(4), currency, po1.path(4)),
        line_total=money(po1.decimal(2) * po1.decimal(4), currency, po1.path(4)),
        properties={f"id_{qualifier}": value for qualifier, value in ids},
    )


def _lines(transaction: Transaction, currency: str) -> list[OrderLine]:
    lines: list[OrderLine] = []
    segments = transaction.segments
    for index, segment in enumerate(segments):
        if segment.tag != "PO1":
            continue
        description = None
        for follower in segments[index + 1 :]:
            if follower.tag in ("PO1", "CTT", "AMT"):
                break
            if follower.tag == "PID" and description is None:
                description = follower.opt(5)
        lines.append(_line(segment, description, currency))
    return lines


def _check_controls(transaction: Transaction, lines: list[OrderLine], gross: Decimal) -> None:
    ctt = transaction.first("CTT")
    if ctt is not None:
        if ctt.decimal(1) != len(lines):
            raise TranslationError(ctt.path(1), f"{len(lines)} PO1 lines", ctt.text(1))
        hash_total = ctt.opt_decimal(2)
        quantities = sum((line.quantity for line in lines), 0)
        if hash_total is not None and hash_total != quantities:
            raise TranslationError(ctt.path(2), f"quantity hash total {quantities}", ctt.text(2))
    for amt in transaction.all("AMT"):
        if amt.opt(1) in ("1", "TT") and amt.decimal(2) != gross:
            raise TranslationError(amt.path(2), f"the sum of PO1 lines {gross}", amt.text(2))


def purchase_order(record: IngressRecord, transaction: Transaction, settings: EdiSettings) -> OrderEvent:
    for unmapped in ("SAC", "TXI"):
        segment = transaction.first(unmapped)
        if segment is not None:
            raise TranslationError(
                segment.path(), "no allowance/charge or tax segment", unmapped, "not mapped"
            )
    beg = transaction.require("BEG")
    change = PURPOSES.get(beg.text(1))
    if change is None:
        raise TranslationError(beg.path(1), f"one of {sorted(PURPOSES)}", beg.text(1))
    cur = transaction.first("CUR")
    currency = currency_code(cur.text(2), cur.path(2)) if cur else settings.default_currency
    po_number = beg.text(3)
    lines = _lines(transaction, currency)
    if not lines:
        raise TranslationError(beg.path(), "at least one PO1 line", "none")
    gross = sum((line.line_total.amount for line in lines if line.line_total), Decimal(0))
    _check_controls(transaction, lines, gross)
    placed_at = instant(settings, beg.date8(5))
    party = parties(transaction)
    zero = money(Decimal(0), currency, beg.path())
    buyer = party.get("BY")
    buyer_id = (buyer.code if buyer else None) or transaction.sender
    order = build(
        Order,
        beg.path(),
        order_id=canonical(record, "order", po_number, beg.path(3)),
        channel="edi",
        account=record.account,
        native_id=po_number,
        display_number=po_number,
        placed_at=placed_at,
        customer=CustomerSnapshot(customer_id=canonical(record, "customer", buyer_id), native_id=buyer_id),
        billing_address=party["BT"].address if "BT" in party else None,
        shipping_address=party["ST"].address if "ST" in party else None,
        lines=lines,
        shop_currency=currency,
        totals=OrderTotals(
            subtotal=money(gross, currency, beg.path()),
            discounts=zero,
            shipping=zero,
            tax=zero,
            total=money(gross, currency, beg.path()),
        ),
        source_status=f"850/{beg.text(1)}/{beg.text(2)}",
        attributes={"x12_version": transaction.version, "st_control_number": transaction.control_number},
    )
    metadata = event_metadata(
        record,
        event_type=f"order.{change.value.lower()}",
        entity="850",
        native_id=po_number,
        occurred_at=placed_at,
        discriminator=transaction.control_number,
    )
    return OrderEvent(metadata=metadata, change=change, order=order)
