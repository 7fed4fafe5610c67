"""WooCommerce orders (``wc/v3`` list or single object, ``order.*`` webhooks) -> OrderEvent.

Money is strings except ``line_items[].price`` (a float-ish number): the unit price is derived from
the exact ``subtotal`` string. Line ``subtotal``/``total`` exclude tax even in tax-inclusive stores,
so canonical amounts are tax-exclusive (``taxes_included=False``) and the store setting is kept in
``attributes["prices_include_tax"]``. Fee lines become non-shipping order lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from schemas.common.models import DiscountAllocation, Money, TaxLine
from schemas.orders.models import (
    CustomerSnapshot,
    FinancialStatus,
    FulfillmentStatus,
    Order,
    OrderCancellation,
    OrderChange,
    OrderDiscount,
    OrderEvent,
    OrderLine,
    OrderTotals,
    ShippingLine,
)
from services.translator.adapters._common import (
    amount,
    canonical,
    change_is_new,
    currency,
    document,
    money,
    per_unit,
    quantity,
    route,
    unwrap,
)
from services.translator.adapters.woocommerce._shared import SYSTEM, address, meta, name, utc
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode
from services.translator.metadata import event_metadata

__all__ = ["translate_orders"]

# status -> (financial, fulfillment); custom statuses map to UNKNOWN.
STATUS: dict[str, tuple[FinancialStatus, FulfillmentStatus]] = {
    "pending": (FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED),
    "on-hold": (FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED),
    "processing": (FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED),
    "completed": (FinancialStatus.PAID, FulfillmentStatus.FULFILLED),
    "cancelled": (FinancialStatus.VOIDED, FulfillmentStatus.UNFULFILLED),
    "refunded": (FinancialStatus.REFUNDED, FulfillmentStatus.UNKNOWN),
    "failed": (FinancialStatus.FAILED, FulfillmentStatus.UNFULFILLED),
}
CHANGE_BY_TOPIC = {"order.created": OrderChange.PLACED, "order.deleted": OrderChange.CANCELLED}


@route
def translate_orders(record: IngressRecord) -> Sequence[OrderEvent]:
    return [_order_event(record, node) for node in unwrap(document(record), "order", "orders")]


def _order_event(record: IngressRecord, node: JsonNode) -> OrderEvent:
    native_id = node["id"].text()
    code = currency(node["currency"])
    placed_at = utc(node, "date_created").timestamp(naive_is_utc=True)
    updated_at = utc(node, "date_modified").opt_timestamp(naive_is_utc=True)
    status = node["status"].opt_text() or ""
    tax_titles = {t["rate_id"].text(): t["label"].opt_text() or "tax" for t in node["tax_lines"].items()}
    lines = [_line(line, code, tax_titles) for line in node["line_items"].items()]
    lines += [_fee(fee, code, tax_titles) for fee in node["fee_lines"].items()]
    shipping = [_shipping(s, code, tax_titles) for s in node["shipping_lines"].items()]
    financial, fulfillment = STATUS.get(status, (FinancialStatus.UNKNOWN, FulfillmentStatus.UNKNOWN))
    change = CHANGE_BY_TOPIC.get(record.provider_topic or "")
    if change is None:
        if status == "cancelled":
            change = OrderChange.CANCELLED
        elif record.provider_topic is None and change_is_new(placed_at, updated_at):
            change = OrderChange.PLACED
        else:
            change = OrderChange.UPDATED
    refunded = sum((-amount(r["total"]) for r in node["refunds"].items()), Decimal(0))
    attributes = meta(node)
    attributes["prices_include_tax"] = str(bool(node["prices_include_tax"].opt_boolean(False))).lower()
    payment_title = node["payment_method_title"].opt_text()
    if payment_title:
        attributes["payment_method"] = payment_title
    order = Order(
        order_id=canonical(record, "order", native_id),
        channel=SYSTEM,
        account=record.account,
        native_id=native_id,
        display_number=node["number"].opt_text(),
        placed_at=placed_at,
        updated_at=updated_at,
        customer=_customer(record, node),
        billing_address=address(node["billing"]),
        shipping_address=address(node["shipping"]),
        lines=lines,
        shipping_lines=shipping,
        discounts=[_coupon(c, code) for c in node["coupon_lines"].items()],
        shop_currency=code,
        presentment_currency=code,  # WooCommerce core sells in one currency per order
        taxes_included=False,
        totals=OrderTotals(
            subtotal=Money(
                amount=sum((ln.line_total.amount for ln in lines if ln.line_total), Decimal(0)), currency=code
            ),
            discounts=money(node["discount_total"], code),
            shipping=money(node["shipping_total"], code),
            tax=money(node["total_tax"], code),
            total=money(node["total"], code),
            refunded=Money(amount=refunded, currency=code) if refunded else None,
        ),
        financial_status=financial,
        fulfillment_status=fulfillment,
        source_status=status or None,
        cancellation=OrderCancellation(cancelled_at=updated_at) if status == "cancelled" else None,
        closed_at=utc(node, "date_completed").opt_timestamp(naive_is_utc=True),
        note=node["customer_note"].opt_text(),
        attributes=attributes,
    )
    metadata = event_metadata(
        record,
        event_type=f"order.{change.lower()}",
        entity="order",
        native_id=native_id,
        occurred_at=updated_at or placed_at,
    )
    return OrderEvent(metadata=metadata, change=change, order=order)


def _taxes(node: JsonNode, code: str, titles: dict[str, str]) -> list[TaxLine]:
    result = []
    for tax in node["taxes"].items():
        rate_id = tax["id"].text()
        result.append(
            TaxLine(title=titles.get(rate_id, "tax"), amount=money(tax["total"], code), jurisdiction=rate_id)
        )
    return result


def _line(node: JsonNode, code: str, titles: dict[str, str]) -> OrderLine:
    units = quantity(node["quantity"])
    subtotal = amount(node["subtotal"])  # before discounts, excluding tax
    total = amount(node["total"])  # after discounts, excluding tax
    variation = node["variation_id"].opt_text()
    discount = subtotal - total
    return OrderLine(
        line_id=node["id"].text(),
        sku=node["sku"].opt_text(),
        product_id=node["product_id"].opt_text(),
        variant_id=variation if variation and variation != "0" else None,
        title=name(node["name"]),
        quantity=units,
        unit_price=Money(amount=per_unit(subtotal, units), currency=code),
        discount_allocations=[DiscountAllocation(amount=Money(amount=discount, currency=code))]
        if discount
        else [],
        tax_lines=_taxes(node, code, titles),
        line_total=Money(amount=total, currency=code),
        properties=meta(node),
    )


def _fee(node: JsonNode, code: str, titles: dict[str, str]) -> OrderLine:
    """Fee lines (surcharges, negative fees) count toward the total: kept as non-shipping lines."""
    total = amount(node["total"])
    return OrderLine(
        line_id=f"fee:{node['id'].text()}",
        title=name(node["name"]) or "fee",
        quantity=1,
        unit_price=Money(amount=total, currency=code),
        tax_lines=_taxes(node, code, titles),
        line_total=Money(amount=total, currency=code),
        requires_shipping=False,
        properties={"woocommerce_line_type": "fee"},
    )


def _shipping(node: JsonNode, code: str, titles: dict[str, str]) -> ShippingLine:
    return ShippingLine(
        line_id=node["id"].opt_text(),
        code=node["method_id"].opt_text(),
        title=name(node["method_title"]) or "shipping",
        price=money(node["total"], code),
        tax_lines=_taxes(node, code, titles),
    )


def _coupon(node: JsonNode, code: str) -> OrderDiscount:
    return OrderDiscount(code=node["code"].opt_text(), kind="coupon", amount=money(node["discount"], code))


def _customer(record: IngressRecord, node: JsonNode) -> CustomerSnapshot | None:
    billing = node["billing"]
    native = node["customer_id"].opt_text()
    guest = native in (None, "0")  # customer_id 0 is a guest checkout
    email = billing["email"].opt_text()
    if guest and not email:
        return None
    return CustomerSnapshot(
        customer_id=None if guest or native is None else canonical(record, "customer", native),
        native_id=None if guest else native,
        email=email,
        phone=billing["phone"].opt_text(),
        first_name=billing["first_name"].opt_text(),
        last_name=billing["last_name"].opt_text(),
        is_guest=guest,
    )
