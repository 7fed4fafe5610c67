"""SAP ORDERS05 IDoc XML (MESTYP ORDERS or ORDRSP) -> ``OrderEvent``.

Qualifier-driven segments are read through the tables below: ``E1EDK03/IDDAT`` dates,
``E1EDKA1/PARVW`` partner roles (AG sold-to, WE ship-to, RE bill-to), ``E1EDP19/QUALF`` material ids,
``E1EDS01/SUMID`` control totals (which are checked: item count and total value).
ORDRSP is the seller's confirmation: change UPDATED with ``source_status`` ``ORDRSP``.
IDoc dates/times carry no zone: they are the sending system's local time (``SapSettings.timezone``).
Unit price is ``VPREI`` per ``PEINH`` units; ``NETWR`` is the line's net value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from schemas.base import AvroRecord
from schemas.common.models import Address
from schemas.orders.models import CustomerSnapshot, Order, OrderChange, OrderEvent, OrderLine, OrderTotals
from services.translator.convert import (
    build,
    canonical,
    currency_code,
    guarded,
    money,
    quantize_money,
    whole,
    zone,
)
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.metadata import event_metadata
from services.translator.registry import Translate
from services.translator.xml_reader import XmlNode, parse_xml, sap_instant

__all__ = ["DATE_QUALIFIERS", "MATERIAL_QUALIFIERS", "MESSAGE_TYPES", "ROUTES", "SapSettings", "routes"]


@dataclass(frozen=True, slots=True)
class SapSettings:
    timezone: str = "UTC"
    """zone of the sending SAP system (IDoc dates and times are local)"""


MESSAGE_TYPES: Mapping[str, OrderChange] = {
    "ORDERS": OrderChange.PLACED,
    "ORDRSP": OrderChange.UPDATED,
    "ORDCHG": OrderChange.UPDATED,
}
DATE_QUALIFIERS: Mapping[str, str] = {
    "002": "requested_delivery",
    "012": "document",
    "022": "purchase_order",
    "023": "changed",
    "025": "created",
}
"""E1EDK03/IDDAT -> meaning; ``created`` (025, with time) is when the order was placed."""
MATERIAL_QUALIFIERS: Mapping[str, str] = {"001": "buyer", "002": "seller", "003": "ean"}
"""E1EDP19/QUALF; our SKU is the seller's material number (002) of an outbound ORDRSP."""
_ROLES = {"AG": "sold_to", "WE": "ship_to", "RE": "bill_to", "RG": "payer"}


def _partners(idoc: XmlNode) -> dict[str, XmlNode]:
    partners: dict[str, XmlNode] = {}
    for segment in idoc.children("E1EDKA1"):
        role = _ROLES.get(segment.child("PARVW").text())
        if role is not None:
            partners.setdefault(role, segment)
    return partners


def _address(segment: XmlNode | None) -> Address | None:
    if segment is None:
        return None
    return Address(
        name=segment.child("NAME1").opt_text(),
        street_lines=[
            line for line in (segment.child("STRAS").opt_text(), segment.child("STRS2").opt_text()) if line
        ],
        city=segment.child("ORT01").opt_text(),
        region_code=segment.child("REGIO").opt_text(),
        postal_code=segment.child("PSTLZ").opt_text(),
        country_code=segment.child("LAND1").opt_text(),
        phone=segment.child("TELF1").opt_text(),
    )


def _dates(idoc: XmlNode, settings: SapSettings) -> dict[str, datetime]:
    dates: dict[str, datetime] = {}
    for segment in idoc.children("E1EDK03"):
        meaning = DATE_QUALIFIERS.get(segment.child("IDDAT").text())
        day = segment.child("DATUM").sap_date()
        if meaning is not None and day is not None:
            dates[meaning] = sap_instant(day, segment.child("UZEIT").sap_time(), zone(settings.timezone))
    return dates


def _line(item: XmlNode, header_currency: str) -> OrderLine:
    currency = currency_code(item.child("CURCY").opt_text() or header_currency, f"{item.path}/CURCY")
    if currency != header_currency:
        raise TranslationError(f"{item.path}/CURCY", f"the header currency {header_currency}", currency)
    materials = {
        MATERIAL_QUALIFIERS.get(seg.child("QUALF").text(), "other"): seg for seg in item.children("E1EDP19")
    }
    material = materials.get("seller") or materials.get("buyer") or materials.get("ean")
    quantity_node = item.child("MENGE")
    price_unit = item.child("PEINH").opt_decimal() or Decimal(1)
    if price_unit <= 0:
        raise TranslationError(f"{item.path}/PEINH", "a positive price unit", str(price_unit))
    price = item.child("VPREI").decimal()
    return OrderLine(
        line_id=item.child("POSEX").text(),
        sku=material.child("IDTNR").opt_text() if material else None,
        product_id=materials["buyer"].child("IDTNR").opt_text() if "buyer" in materials else None,
        title=(material.child("KTEXT").opt_text() if material else None) or item.child("POSEX").text(),
        quantity=whole(quantity_node.decimal(), quantity_node.path),
        unit_of_measure=item.child("MENEE").opt_text() or "EA",
        unit_price=money(quantize_money(price / price_unit), currency, f"{item.path}/VPREI"),
        line_total=money(item.child("NETWR").decimal(), currency, f"{item.path}/NETWR"),
    )


def _check_control_totals(idoc: XmlNode, lines: Sequence[OrderLine]) -> Decimal:
    """E1EDS01 SUMID 001 = number of items, 002 = total value: both must match the items."""
    net = sum((line.line_total.amount for line in lines if line.line_total), Decimal(0))
    total = net
    for segment in idoc.children("E1EDS01"):
        sumid, summe = segment.child("SUMID").text(), segment.child("SUMME")
        if sumid == "001" and summe.decimal() != len(lines):
            raise TranslationError(summe.path, f"{len(lines)} items (E1EDP01)", summe.text())
        if sumid == "002":
            total = summe.decimal()
            if total != net:
                raise TranslationError(summe.path, f"sum of item NETWR {net}", summe.text())
    return total


def translate_idoc(settings: SapSettings, record: IngressRecord) -> Sequence[AvroRecord]:
    root = parse_xml(record.raw)
    if root.name != "ORDERS05":
        raise TranslationError(root.path, "an ORDERS05 IDoc", root.name)
    idoc = root.child("IDOC").require()
    control = idoc.child("EDI_DC40").require()
    message_type = control.child("MESTYP").text()
    change = MESSAGE_TYPES.get(message_type)
    if change is None:
        raise TranslationError(f"{control.path}/MESTYP", f"one of {sorted(MESSAGE_TYPES)}", message_type)
    header = idoc.child("E1EDK01").require()
    for unmapped in ("E1EDK04", "E1EDK05"):  # header taxes / conditions: never drop money silently
        if idoc.child(unmapped).is_present:
            raise TranslationError(
                idoc.child(unmapped).path, "no header tax/condition segment", unmapped, "not mapped"
            )
    currency = currency_code(header.child("CURCY").text(), f"{header.path}/CURCY")
    native_id = header.child("BELNR").text()
    lines = [_line(item, currency) for item in idoc.children("E1EDP01")]
    total = _check_control_totals(idoc, lines)
    dates = _dates(idoc, settings)
    created_day = control.child("CREDAT").sap_date()
    sent_at = (
        sap_instant(created_day, control.child("CRETIM").sap_time(), zone(settings.timezone))
        if created_day
        else None
    )
    placed_at = dates.get("created") or dates.get("document") or sent_at
    if placed_at is None:
        raise TranslationError(f"{idoc.path}/E1EDK03", "a creation (025) or document (012) date", None)
    partners = _partners(idoc)
    sold_to = partners.get("sold_to")
    customer_no = sold_to.child("PARTN").opt_text() if sold_to else None
    zero = money(Decimal(0), currency, header.path)
    order = build(
        Order,
        idoc.path,
        order_id=canonical(record, "order", native_id),
        channel="sap",
        account=record.account,
        native_id=native_id,
        display_number=native_id.lstrip("0") or native_id,
        placed_at=placed_at,
        updated_at=sent_at,
        customer=CustomerSnapshot(
            customer_id=canonical(record, "customer", customer_no), native_id=customer_no
        )
        if customer_no
        else None,
        billing_address=_address(partners.get("bill_to") or sold_to),
        shipping_address=_address(partners.get("ship_to")),
        lines=lines,
        shop_currency=currency,
        totals=OrderTotals(
            subtotal=money(total, currency, f"{idoc.path}/E1EDS01"),
            discounts=zero,
            shipping=zero,
            tax=zero,
            total=money(total, currency, f"{idoc.path}/E1EDS01"),
        ),
        source_status=message_type,
        attributes={
            "idoc_number": control.child("DOCNUM").text(),
            **{f"org_{s.child('QUALF').text()}": s.child("ORGID").text() for s in idoc.children("E1EDK14")},
        },
    )
    metadata = event_metadata(
        record,
        event_type=f"order.{change.value.lower()}",
        entity="order",
        native_id=native_id,
        occurred_at=sent_at or placed_at,
        discriminator=control.child("DOCNUM").text(),
    )
    return [OrderEvent(metadata=metadata, change=change, order=order)]


def routes(settings: SapSettings) -> Mapping[tuple[str, str], Translate]:
    return {("sap", "orders05"): guarded(partial(translate_idoc, settings))}


ROUTES = routes(SapSettings())
