"""A Business Central salesOrder (``$expand=salesOrderLines``) -> ``OrderEvent``.

Totals are the header's own (``totalAmountIncludingTax``...) when present, else summed from the lines;
an order with neither is rejected — a header without lines or totals is not the whole order.
``discounts`` holds line discounts plus the invoice discount, so lines - discounts + tax = total.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from schemas.base import AvroRecord
from schemas.common.models import DiscountAllocation, Money, TaxLine
from schemas.orders.models import (
    CustomerSnapshot,
    FulfillmentStatus,
    Order,
    OrderChange,
    OrderEvent,
    OrderLine,
    OrderTotals,
)
from services.translator.adapters.business_central import (
    BusinessCentralSettings,
    bc_address,
    bc_date,
    bc_instant,
    bc_text,
)
from services.translator.convert import build, canonical, currency_code, day_start, money, whole, zone
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode, parse_json
from services.translator.metadata import event_metadata

__all__ = ["translate_sales_order"]

_ZERO = Decimal(0)
_NO_MONEY_LINES = frozenset({"Comment"})


def _line(node: JsonNode, order_id: str, currency: str) -> tuple[OrderLine, int]:
    document = node["documentId"].opt_text()
    if document is not None and document != order_id:
        raise TranslationError(node["documentId"].path, f"the order's id {order_id}", document)
    quantity = whole(node["quantity"].decimal(), node["quantity"].path)

    def m(key: str) -> Money:
        return money(node[key].opt_decimal() or _ZERO, currency, f"{node.path}.{key}")

    discounts = [
        DiscountAllocation(amount=m(key), title=title)
        for key, title in (
            ("discountAmount", "line discount"),
            ("invoiceDiscountAllocation", "invoice discount"),
        )
        if (node[key].opt_decimal() or _ZERO) != 0
    ]
    taxes = []
    if node["totalTaxAmount"].is_present:
        percent = node["taxPercent"].opt_decimal()
        taxes.append(
            TaxLine(
                title=bc_text(node["taxCode"]) or "tax",
                rate=None if percent is None else (percent / 100).quantize(Decimal("1e-10")),
                amount=m("totalTaxAmount"),
            )
        )
    shipped = whole(node["shippedQuantity"].opt_decimal() or _ZERO, node["shippedQuantity"].path)
    line = OrderLine(
        line_id=node["sequence"].text() if node["sequence"].is_present else node["id"].text(),
        sku=bc_text(node["lineObjectNumber"]),
        product_id=bc_text(node["itemId"]),
        title=bc_text(node["description"]) or bc_text(node["lineObjectNumber"]) or node["id"].text(),
        quantity=quantity,
        unit_of_measure=bc_text(node["unitOfMeasureCode"]) or "EA",
        unit_price=money(node["unitPrice"].decimal(), currency, f"{node.path}.unitPrice"),
        discount_allocations=discounts,
        tax_lines=taxes,
        line_total=m("amountExcludingTax"),
        fulfillable_quantity=max(quantity - shipped, 0),
    )
    return line, shipped


def _sum(lines: Sequence[JsonNode], key: str) -> Decimal:
    return sum((line[key].opt_decimal() or _ZERO for line in lines), _ZERO)


def _totals(
    body: JsonNode, lines: Sequence[JsonNode], built: Sequence[OrderLine], currency: str
) -> OrderTotals:
    header_total = body["totalAmountIncludingTax"].opt_decimal()
    if header_total is None and not lines:
        raise TranslationError(
            f"{body.path}.salesOrderLines",
            "the order's lines ($expand=salesOrderLines) or its header totals",
            body["salesOrderLines"].value,
            "a salesOrder without lines and totals is not the whole order",
        )
    gross = sum((line.unit_price.amount * line.quantity for line in built), _ZERO)
    line_discounts = _sum(lines, "discountAmount")
    invoice_discount = body["discountAmount"].opt_decimal()
    if invoice_discount is None:
        invoice_discount = _sum(lines, "invoiceDiscountAllocation")
    tax = body["totalTaxAmount"].opt_decimal()
    tax = _sum(lines, "totalTaxAmount") if tax is None else tax
    total = _sum(lines, "amountIncludingTax") if header_total is None else header_total
    if not lines:  # header-only: the excluding-tax total is after the invoice discount
        gross = (body["totalAmountExcludingTax"].opt_decimal() or total - tax) + invoice_discount
    path = body.path
    return OrderTotals(
        subtotal=money(gross - line_discounts, currency, f"{path}.salesOrderLines"),
        discounts=money(line_discounts + invoice_discount, currency, f"{path}.discountAmount"),
        shipping=money(_ZERO, currency, path),
        tax=money(tax, currency, f"{path}.totalTaxAmount"),
        total=money(total, currency, f"{path}.totalAmountIncludingTax"),
    )


def _fulfillment(built: Sequence[OrderLine], shipped: Sequence[int]) -> FulfillmentStatus:
    if not built:
        return FulfillmentStatus.UNKNOWN
    if all(line.fulfillable_quantity == 0 for line in built):
        return FulfillmentStatus.FULFILLED
    return FulfillmentStatus.PARTIALLY_FULFILLED if any(shipped) else FulfillmentStatus.UNFULFILLED


def translate_sales_order(settings: BusinessCentralSettings, record: IngressRecord) -> Sequence[AvroRecord]:
    body = parse_json(record.raw)
    native_id = body["id"].text()
    raw_currency = bc_text(body["currencyCode"])
    currency = currency_code(raw_currency or settings.local_currency, body["currencyCode"].path)
    lines = [
        line
        for line in body["salesOrderLines"].items()
        if (line["lineType"].opt_text() or "Item") not in _NO_MONEY_LINES
    ]
    built_and_shipped = [_line(line, native_id, currency) for line in lines]
    built = [line for line, _ in built_and_shipped]
    shipped = [qty for _, qty in built_and_shipped]
    ordered = bc_date(body["orderDate"])
    if ordered is None:
        raise TranslationError(body["orderDate"].path, "order date", body["orderDate"].value)
    placed_at = day_start(ordered, zone(settings.timezone))
    updated_at = bc_instant(body["lastModifiedDateTime"])
    customer_id = bc_text(body["customerId"])
    customer = CustomerSnapshot(
        customer_id=canonical(record, "customer", customer_id) if customer_id else None,
        native_id=customer_id,
        email=bc_text(body["email"]),
        phone=bc_text(body["phoneNumber"]),
    )
    order = build(
        Order,
        body.path,
        order_id=canonical(record, "order", native_id, body["id"].path),
        channel="business-central",
        account=record.account,
        native_id=native_id,
        display_number=bc_text(body["number"]),
        placed_at=placed_at,
        updated_at=updated_at,
        customer=customer,
        billing_address=bc_address(body, "billTo"),
        shipping_address=bc_address(body, "shipTo"),
        lines=built,
        shop_currency=currency,
        taxes_included=body["pricesIncludeTax"].opt_boolean(False),
        totals=_totals(body, lines, built, currency),
        fulfillment_status=_fulfillment(built, shipped),
        source_status=bc_text(body["status"]),
    )
    metadata = event_metadata(
        record,
        event_type="order.updated",
        entity="sales_order",
        native_id=native_id,
        occurred_at=updated_at or placed_at,
    )
    return [OrderEvent(metadata=metadata, change=OrderChange.UPDATED, order=order)]
