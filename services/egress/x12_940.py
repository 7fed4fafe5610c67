"""EDI X12 940 Warehouse Shipping Order (version 004010) for a 3PL.

One interchange per fulfillment order: ``ISA``/``GS`` (functional id ``OW``)/``ST*940`` ...
``SE``/``GE``/``IEA``.
Body: ``W05`` (order status N original, R replace, C cancel; depositor order number = our reference;
PO number = the storefront's order number), ``N1*ST`` ship-to with ``N3``/``N4``, ``N1*DE`` depositor,
``N1*WH`` warehouse, ``G62*10`` requested ship date, ``W66`` shipment method of payment, then per line
``LX`` + ``W01`` (quantity, unit, product id qualifier VN + SKU) + ``N9*LI`` (our line id), and ``W76``
with the total quantity. Delimiters: ``*`` elements, ``>`` components, ``~`` segment terminator.

Control numbers (ISA13/GS06) are unique per interchange *and* stable across re-deliveries: the egress
service assigns them from its exactly-once state, keyed by the document's idempotency key, so the
3PL's duplicate-interchange check recognises a re-delivery.
"""

from __future__ import annotations

from schemas.fulfillment.models import FulfillmentChange, FulfillmentOrderEvent
from services.egress import formats
from services.egress.document import EgressDocument, Method
from services.egress.errors import UntranslatableError
from services.egress.keys import document_number, idempotency_key
from services.egress.settings import WmsTarget

__all__ = ["ELEMENT", "SEGMENT", "document_key", "shipping_order"]

SYSTEM = "wms"
DOCUMENT = "x12.940"
ELEMENT = "*"
COMPONENT = ">"
SEGMENT = "~"
_STATUS = {FulfillmentChange.CREATED: "N", FulfillmentChange.UPDATED: "R", FulfillmentChange.CANCELLED: "C"}


def document_key(event: FulfillmentOrderEvent) -> str:
    """The idempotency key of the 940 for this event (the control-number store is keyed by it)."""
    return idempotency_key(DOCUMENT, str(event.fulfillment_order_id), str(event.metadata.event_id))


def _clean(value: str, width: int) -> str:
    """Element text: no delimiters, no line breaks, at most ``width`` characters."""
    for char in (ELEMENT, COMPONENT, SEGMENT, "\r", "\n"):
        value = value.replace(char, " ")
    return value.strip()[:width]


def _segment(tag: str, *elements: str) -> str:
    values = list(elements)
    while values and not values[-1]:
        values.pop()  # trailing empty elements are omitted
    return ELEMENT.join([tag, *values]) + SEGMENT


def shipping_order(
    event: FulfillmentOrderEvent, cfg: WmsTarget, control_number: int
) -> EgressDocument | None:
    """The 940 for a fulfillment order at a warehouse this 3PL runs; other locations: None."""
    status = _STATUS.get(event.change)
    if status is None:
        return None
    warehouse = cfg.warehouses.get(event.location)
    if warehouse is None:
        return None
    if not event.lines:
        raise UntranslatableError(DOCUMENT, "W01", "a shipping order needs lines")
    if not 0 < control_number < 10**9:
        raise UntranslatableError(DOCUMENT, "ISA13", f"control number out of range: {control_number}")
    zone = cfg.zone
    created = event.metadata.occurred_at
    control = str(control_number).zfill(9)
    reference = document_number(event.fulfillment_order_id, 22)
    purchase_order = _clean(event.order_native_id or "", 22)

    body: list[str] = [
        _segment("ST", "940", "0001"),
        _segment("W05", status, reference, purchase_order),
    ]
    address = event.shipping_address
    if address is None:
        raise UntranslatableError(DOCUMENT, "N1*ST", "a shipping order needs a ship-to address")
    body.append(_segment("N1", "ST", _clean(address.company or address.name or "", 60)))
    lines = [_clean(line, 55) for line in address.street_lines]
    if lines:
        body.append(_segment("N3", *lines[:2]))
    region = (address.region_code or "").rpartition("-")[2] or (address.region or "")
    body.append(
        _segment(
            "N4",
            _clean(address.city or "", 30),
            _clean(region, 2),
            _clean(address.postal_code or "", 15),
            _clean(address.country_code or "", 3),
        )
    )
    body.append(_segment("N1", "DE", _clean(cfg.depositor, 60)))
    body.append(_segment("N1", "WH", _clean(event.location, 60), "ZZ", _clean(warehouse, 80)))
    if event.requested_ship_date is not None:
        body.append(_segment("G62", "10", formats.x12_date(event.requested_ship_date, zone)))
    if event.shipping_method:
        body.append(_segment("NTE", "WHI", _clean(f"SHIP VIA {event.shipping_method}", 80)))
    body.append(_segment("W66", "PP", "M"))
    total = 0
    for number, line in enumerate(event.lines, start=1):
        body.append(_segment("LX", str(number)))
        body.append(
            _segment(
                "W01",
                formats.quantity_text(line.quantity),
                _clean(line.unit_of_measure.upper(), 2),
                "",
                "VN",
                _clean(line.sku, 48),
            )
        )
        body.append(_segment("N9", "LI", _clean(line.order_line_id, 30)))
        total += line.quantity
    body.append(_segment("W76", str(total)))
    body.append(_segment("SE", str(len(body) + 1), "0001"))

    isa = ELEMENT.join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            cfg.sender_qualifier.ljust(2),
            _clean(cfg.sender_id, 15).ljust(15),
            cfg.receiver_qualifier.ljust(2),
            _clean(cfg.receiver_id, 15).ljust(15),
            formats.x12_short_date(created, zone),
            formats.x12_time(created, zone),
            "U",
            "00401",
            control,
            "0",
            cfg.usage,
            COMPONENT,
        ]
    )
    gs = _segment(
        "GS",
        "OW",
        _clean(cfg.gs_sender, 15),
        _clean(cfg.gs_receiver, 15),
        formats.x12_date(created, zone),
        formats.x12_time(created, zone),
        str(control_number),
        "X",
        "004010",
    )
    trailer = [_segment("GE", "1", str(control_number)), _segment("IEA", "1", control)]
    text = "\n".join([isa + SEGMENT, gs, *body, *trailer]) + "\n"
    return EgressDocument(
        system=SYSTEM,
        entity="shipping-orders",
        document_type=DOCUMENT,
        key=str(event.fulfillment_order_id),
        idempotency_key=document_key(event),
        external_id=reference,
        account=cfg.account,
        method=Method.POST,
        path="/edi/940",
        content_type="application/edi-x12",
        body=text.encode("ascii", errors="replace"),
    )
