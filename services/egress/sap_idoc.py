"""SAP ORDERS05 IDoc XML for sales orders (ALE inbound, IDoc XML over HTTP).

``MESTYP`` ORDERS for a new order, ORDCHG for a change (``E1EDK01/ACTION`` 002) or a cancellation
(003). Segments: control record ``EDI_DC40``; ``E1EDK01`` header (currency, our reference in BELNR);
``E1EDK14`` organisation (008 sales org, 007 distribution channel, 006 division, 012 order type);
``E1EDK03`` 022 purchase order date; ``E1EDKA1`` partners (AG sold-to, WE ship-to with address);
``E1EDK02`` 001 customer PO number (SAP's duplicate-PO check keys on it); ``E1EDP01`` items
(POSEX 000010 steps, MENGE 3 places, VPREI/NETWR 2 places, PEINH 10/100 for finer prices) each
with ``E1EDP19`` 002 material;
``E1EDS01`` control totals (001 item count, 002 net value). Every value is text: dates
``YYYYMMDD``, times ``HHMMSS``, fixed-scale decimals with a trailing minus for negatives.
The document is deterministic: creation date/time come from the event, not the clock.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from schemas.common.models import Address
from schemas.orders.models import OrderChange, OrderEvent
from services.egress import formats
from services.egress.document import EgressDocument, Method
from services.egress.errors import UntranslatableError
from services.egress.keys import document_number, idempotency_key, numeric_reference
from services.egress.settings import SapTarget

__all__ = ["ISO_UNITS", "orders05"]

SYSTEM = "sap"
DOCUMENT = "sap.ORDERS05"

# Canonical unit of measure -> ISO code SAP expects in MENEE.
ISO_UNITS = {
    "EA": "PCE",
    "PCS": "PCE",
    "PC": "PCE",
    "KG": "KGM",
    "G": "GRM",
    "L": "LTR",
    "M": "MTR",
    "BOX": "BX",
}
_ACTIONS = {OrderChange.UPDATED: "002", OrderChange.CANCELLED: "003"}


def _add(parent: ET.Element, tag: str, text: str | None) -> None:
    if text:
        ET.SubElement(parent, tag).text = text


def _segment(parent: ET.Element, name: str, fields: list[tuple[str, str | None]]) -> ET.Element:
    segment = ET.SubElement(parent, name, SEGMENT="1")
    for tag, text in fields:
        _add(segment, tag, text)
    return segment


def orders05(event: OrderEvent, cfg: SapTarget, version: str | None = None) -> EgressDocument:
    order = event.order
    if event.change not in (OrderChange.PLACED, OrderChange.UPDATED, OrderChange.CANCELLED):
        raise UntranslatableError(DOCUMENT, "MESTYP", f"no IDoc for order change {event.change}")
    sold_to = cfg.sold_to.get(order.channel)
    if sold_to is None:
        raise UntranslatableError(DOCUMENT, "E1EDKA1/PARTN", f"no sold-to for channel {order.channel!r}")
    key = str(order.order_id)
    version = version or str(event.metadata.event_id)
    idem = idempotency_key(DOCUMENT, key, version)
    reference = document_number(order.order_id, 35)
    created = event.metadata.occurred_at
    zone = cfg.zone

    root = ET.Element("ORDERS05")
    idoc = ET.SubElement(root, "IDOC", BEGIN="1")
    _segment(
        idoc,
        "EDI_DC40",
        [
            ("TABNAM", "EDI_DC40"),
            ("MANDT", cfg.client),
            ("DOCNUM", numeric_reference(idem, 16)),
            ("DIRECT", "2"),
            ("IDOCTYP", "ORDERS05"),
            ("MESTYP", "ORDERS" if event.change is OrderChange.PLACED else "ORDCHG"),
            ("SNDPOR", cfg.sender_port),
            ("SNDPRT", "LS"),
            ("SNDPRN", cfg.sender_partner),
            ("RCVPOR", cfg.receiver_port),
            ("RCVPRT", "LS"),
            ("RCVPRN", cfg.receiver_partner),
            ("CREDAT", formats.sap_date(created, zone)),
            ("CRETIM", formats.sap_time(created, zone)),
            ("SERIAL", formats.sap_date(created, zone) + formats.sap_time(created, zone)),
        ],
    )
    _segment(
        idoc,
        "E1EDK01",
        [("ACTION", _ACTIONS.get(event.change)), ("CURCY", order.shop_currency), ("BELNR", reference)],
    )
    for qualifier, value in (
        ("008", cfg.sales_org),
        ("007", cfg.distribution_channel),
        ("006", cfg.division),
        ("012", cfg.order_type),
    ):
        _segment(idoc, "E1EDK14", [("QUALF", qualifier), ("ORGID", value)])
    _segment(idoc, "E1EDK03", [("IDDAT", "022"), ("DATUM", formats.sap_date(order.placed_at, zone))])
    _segment(
        idoc, "E1EDKA1", [("PARVW", "AG"), ("PARTN", sold_to.zfill(10) if sold_to.isdigit() else sold_to)]
    )
    if order.shipping_address is not None:
        _segment(idoc, "E1EDKA1", [("PARVW", "WE"), *_partner_address(order.shipping_address)])
    _segment(
        idoc,
        "E1EDK02",
        [
            ("QUALF", "001"),
            ("BELNR", (order.display_number or order.native_id)[:35]),
            ("DATUM", formats.sap_date(order.placed_at, zone)),
        ],
    )
    total = Decimal(0)
    for index, line in enumerate(order.lines, start=1):
        if not line.sku:
            raise UntranslatableError(DOCUMENT, f"E1EDP01[{index}]/E1EDP19", "line without SKU")
        net = formats.amount_of(line.unit_price.amount * line.quantity, line.unit_price.currency)
        price, per = _price_per_unit(line.unit_price.amount)
        total += net
        item = _segment(
            idoc,
            "E1EDP01",
            [
                ("POSEX", str(index * 10).zfill(6)),
                ("ACTION", "003" if event.change is OrderChange.CANCELLED else None),
                ("MENGE", formats.sap_number(Decimal(line.quantity), 3)),
                ("MENEE", ISO_UNITS.get(line.unit_of_measure.upper(), line.unit_of_measure.upper())),
                ("VPREI", formats.sap_number(price, 2)),
                ("PEINH", str(per)),
                ("NETWR", formats.sap_number(net, 2)),
                ("CURCY", line.unit_price.currency),
            ],
        )
        material = cfg.material_numbers.get(line.sku, line.sku)
        _segment(item, "E1EDP19", [("QUALF", "002"), ("IDTNR", material[:35]), ("KTEXT", line.title[:40])])
    _segment(idoc, "E1EDS01", [("SUMID", "001"), ("SUMME", str(len(order.lines)))])
    _segment(
        idoc,
        "E1EDS01",
        [("SUMID", "002"), ("SUMME", formats.sap_number(total, 2)), ("SUNIT", order.shop_currency)],
    )
    ET.indent(root, space="\t")
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return EgressDocument(
        system=SYSTEM,
        entity="orders",
        document_type=DOCUMENT,
        key=key,
        idempotency_key=idem,
        external_id=reference,
        account=cfg.account,
        method=Method.POST,
        path="/sap/bc/idoc_xml",
        content_type="application/xml",
        body=body,
    )


def _price_per_unit(unit_price: Decimal) -> tuple[Decimal, int]:
    """VPREI has two places: a price with more is quoted per 10 or 100 units (PEINH), as SAP does."""
    per = 1
    while per < 100 and unit_price * per != (unit_price * per).quantize(Decimal("0.01")):
        per *= 10
    return unit_price * per, per


def _partner_address(value: Address) -> list[tuple[str, str | None]]:
    lines = value.street_lines
    return [
        ("NAME1", (value.company or value.name or "")[:35] or None),
        ("NAME2", value.name[:35] if value.company and value.name else None),
        ("STRAS", lines[0][:35] if lines else None),
        ("STRS2", " ".join(lines[1:])[:35] if len(lines) > 1 else None),
        ("ORT01", (value.city or "")[:35] or None),
        ("PSTLZ", value.postal_code),
        ("LAND1", value.country_code),
        ("REGIO", (value.region_code or "").rpartition("-")[2] or None),
        ("TELF1", value.phone),
    ]
