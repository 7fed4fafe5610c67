"""The Shopify orders adapter as it was before the plain-dict fast path (a JsonNode per lookup, a
validated pydantic model per value; ``orders.py`` and ``totals.py`` at commit 30413c9): the
reference that ``tests/unit/test_translate_shopify_orders_fast.py`` holds the fast path to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from schemas.common.models import DiscountAllocation, Money, TaxLine
from schemas.orders.models import (
    CustomerSnapshot,
    DiscountTarget,
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
    canonical,
    change_is_new,
    currency,
    document,
    quantity,
    rate,
    route,
    string_map,
    unwrap,
)
from services.translator.adapters.shopify._shared import (
    SYSTEM,
    address,
    money_pair,
    opt_money_pair,
    set_money,
    tags,
)
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode
from services.translator.metadata import event_metadata

__all__ = ["translate_orders"]
FINANCIAL = {
    "pending": FinancialStatus.PENDING,
    "authorized": FinancialStatus.AUTHORIZED,
    "partially_paid": FinancialStatus.PARTIALLY_PAID,
    "paid": FinancialStatus.PAID,
    "partially_refunded": FinancialStatus.PARTIALLY_REFUNDED,
    "refunded": FinancialStatus.REFUNDED,
    "voided": FinancialStatus.VOIDED,
}
FULFILLMENT = {
    None: FulfillmentStatus.UNFULFILLED,  # Shopify sends null for unfulfilled
    "unfulfilled": FulfillmentStatus.UNFULFILLED,
    "partial": FulfillmentStatus.PARTIALLY_FULFILLED,
    "fulfilled": FulfillmentStatus.FULFILLED,
    "restocked": FulfillmentStatus.RETURNED,
}
CHANGE_BY_TOPIC = {
    "orders/create": OrderChange.PLACED,
    "orders/cancelled": OrderChange.CANCELLED,
}
DISCOUNT_TARGET = {"line_item": DiscountTarget.LINE_ITEMS, "shipping_line": DiscountTarget.SHIPPING}

Allocations = dict[int, list[DiscountAllocation]]


@route
def translate_orders(record: IngressRecord) -> Sequence[OrderEvent]:
    return [_order_event(record, node) for node in unwrap(document(record), "order", "orders")]


def _order_event(record: IngressRecord, node: JsonNode) -> OrderEvent:
    native_id = node["id"].text()
    shop = currency(node["currency"])
    presentment_node = node["presentment_currency"]
    presentment = currency(presentment_node) if presentment_node.is_present else None
    placed_at = node["created_at"].timestamp()
    updated_at = node["updated_at"].opt_timestamp()
    cancelled_at = node["cancelled_at"].opt_timestamp()
    closed_at = node["closed_at"].opt_timestamp()
    applications = list(node["discount_applications"].items())
    by_index: Allocations = {}
    lines = [_line(line, shop, applications, by_index) for line in node["line_items"].items()]
    shipping = [_shipping(line, shop, applications, by_index) for line in node["shipping_lines"].items()]
    totals, presentment_totals = order_totals(node, shop, shipping)
    change = _change(record, placed_at, updated_at, cancelled_at, closed_at)
    order = Order(
        order_id=canonical(record, "order", native_id),
        channel=SYSTEM,
        account=record.account,
        native_id=native_id,
        display_number=node["name"].opt_text(),
        placed_at=placed_at,
        updated_at=updated_at,
        customer=_customer(record, node),
        billing_address=address(node["billing_address"]),
        shipping_address=address(node["shipping_address"]),
        lines=lines,
        shipping_lines=shipping,
        discounts=_discounts(node, applications, by_index, shop),
        shop_currency=shop,
        presentment_currency=presentment,
        taxes_included=bool(node["taxes_included"].opt_boolean(False)),
        totals=totals,
        presentment_totals=presentment_totals,
        financial_status=FINANCIAL.get(node["financial_status"].opt_text() or "", FinancialStatus.UNKNOWN),
        fulfillment_status=FULFILLMENT.get(node["fulfillment_status"].opt_text(), FulfillmentStatus.UNKNOWN),
        source_status=node["financial_status"].opt_text(),
        cancellation=(
            OrderCancellation(cancelled_at=cancelled_at, reason=node["cancel_reason"].opt_text())
            if cancelled_at or node["cancel_reason"].is_present
            else None
        ),
        closed_at=closed_at,
        tags=tags(node["tags"]),
        note=node["note"].opt_text(),
        attributes=string_map((a["name"].text(), a["value"]) for a in node["note_attributes"].items()),
    )
    occurred = updated_at or placed_at
    metadata = event_metadata(
        record,
        event_type=f"order.{change.lower()}",
        entity="order",
        native_id=native_id,
        occurred_at=occurred,
    )
    return OrderEvent(metadata=metadata, change=change, order=order)


def _change(
    record: IngressRecord,
    placed_at: datetime,
    updated_at: datetime | None,
    cancelled_at: datetime | None,
    closed_at: datetime | None,
) -> OrderChange:
    by_topic = CHANGE_BY_TOPIC.get(record.provider_topic or "")
    if by_topic is not None:
        return by_topic
    if cancelled_at is not None:
        return OrderChange.CANCELLED
    if closed_at is not None:
        return OrderChange.CLOSED
    if record.provider_topic is None and change_is_new(placed_at, updated_at):
        return OrderChange.PLACED
    return OrderChange.UPDATED


def _allocations(
    node: JsonNode, shop: str, applications: list[JsonNode], by_index: Allocations
) -> list[DiscountAllocation]:
    result = []
    for allocation in node["discount_allocations"].items():
        amount, presentment = money_pair(allocation, "amount", shop)
        index_node = allocation["discount_application_index"]
        index = index_node.integer() if index_node.is_present else -1
        application = applications[index] if 0 <= index < len(applications) else None
        made = DiscountAllocation(
            amount=amount,
            presentment_amount=presentment,
            code=application["code"].opt_text() if application else None,
            title=application["title"].opt_text() if application else None,
        )
        by_index.setdefault(index, []).append(made)
        result.append(made)
    return result


def _tax_lines(node: JsonNode, shop: str) -> list[TaxLine]:
    result = []
    for tax in node["tax_lines"].items():
        price, presentment = money_pair(tax, "price", shop)
        result.append(
            TaxLine(
                title=tax["title"].opt_text() or "tax",
                rate=rate(tax["rate"]),
                amount=price,
                presentment_amount=presentment,
            )
        )
    return result


def _line(node: JsonNode, shop: str, applications: list[JsonNode], by_index: Allocations) -> OrderLine:
    units = quantity(node["quantity"])
    price, presentment_price = money_pair(node, "price", shop)
    allocations = _allocations(node, shop, applications, by_index)
    discounted = price.amount * units - sum((a.amount.amount for a in allocations), Decimal(0))
    return OrderLine(
        line_id=node["id"].text(),
        sku=node["sku"].opt_text(),
        product_id=node["product_id"].opt_text(),
        variant_id=node["variant_id"].opt_text(),
        title=node["title"].opt_text() or node["name"].opt_text() or "",
        variant_title=node["variant_title"].opt_text(),
        quantity=units,
        unit_price=price,
        presentment_unit_price=presentment_price,
        discount_allocations=allocations,
        tax_lines=_tax_lines(node, shop),
        line_total=Money(amount=discounted, currency=shop),
        requires_shipping=bool(node["requires_shipping"].opt_boolean(True)),
        fulfillable_quantity=quantity(node["fulfillable_quantity"])
        if node["fulfillable_quantity"].is_present
        else None,
        properties=string_map((p["name"].text(), p["value"]) for p in node["properties"].items()),
    )


def _shipping(node: JsonNode, shop: str, applications: list[JsonNode], by_index: Allocations) -> ShippingLine:
    price, presentment = money_pair(node, "price", shop)
    discounted = opt_money_pair(node, "discounted_price", shop)
    return ShippingLine(
        line_id=node["id"].opt_text(),
        code=node["code"].opt_text(),
        title=node["title"].opt_text() or node["code"].opt_text() or "shipping",
        carrier=node["carrier_identifier"].opt_text() or node["source"].opt_text(),
        price=price,
        discounted_price=discounted[0] if discounted else None,
        presentment_price=presentment,
        discount_allocations=_allocations(node, shop, applications, by_index),
        tax_lines=_tax_lines(node, shop),
    )


def _discounts(
    node: JsonNode, applications: list[JsonNode], by_index: Allocations, shop: str
) -> list[OrderDiscount]:
    if node["discount_applications"].is_absent:
        # Legacy payloads list only codes, each with its amount.
        return [
            OrderDiscount(
                code=code["code"].opt_text(), kind="discount_code", amount=money_pair(code, "amount", shop)[0]
            )
            for code in node["discount_codes"].items()
        ]
    result = []
    for index, application in enumerate(applications):
        allocated = by_index.get(index, [])
        total = sum((a.amount.amount for a in allocated), Decimal(0))
        presentments = [a.presentment_amount for a in allocated if a.presentment_amount]
        result.append(
            OrderDiscount(
                code=application["code"].opt_text(),
                title=application["title"].opt_text() or application["description"].opt_text(),
                kind=application["type"].opt_text(),
                target=DISCOUNT_TARGET.get(application["target_type"].opt_text() or "", DiscountTarget.ORDER),
                amount=Money(amount=total, currency=shop),
                presentment_amount=Money(
                    amount=sum((p.amount for p in presentments), Decimal(0)),
                    currency=presentments[0].currency,
                )
                if presentments
                else None,
            )
        )
    return result


def _customer(record: IngressRecord, node: JsonNode) -> CustomerSnapshot | None:
    customer = node["customer"]
    email = node["email"].opt_text() or node["contact_email"].opt_text()
    if customer.is_absent:
        if not email:
            return None
        return CustomerSnapshot(email=email, phone=node["phone"].opt_text(), is_guest=True)
    native = customer["id"].text()
    return CustomerSnapshot(
        customer_id=canonical(record, "customer", native),
        native_id=native,
        email=customer["email"].opt_text() or email,
        phone=customer["phone"].opt_text() or node["phone"].opt_text(),
        first_name=customer["first_name"].opt_text(),
        last_name=customer["last_name"].opt_text(),
    )


def order_totals(
    node: JsonNode, shop: str, shipping: list[ShippingLine]
) -> tuple[OrderTotals, OrderTotals | None]:
    subtotal = money_pair(node, "subtotal_price", shop)
    discounts = money_pair(node, "total_discounts", shop)
    tax = money_pair(node, "total_tax", shop)
    total = money_pair(node, "total_price", shop)
    current = opt_money_pair(node, "current_total_price", shop)
    outstanding = opt_money_pair(node, "total_outstanding", shop)
    if node["total_shipping_price_set"].is_present:
        ship_shop = set_money(node.path_get("total_shipping_price_set", "shop_money"))
        present = node.path_get("total_shipping_price_set", "presentment_money")
        ship: tuple[Money, Money | None] = (ship_shop, set_money(present) if present.is_present else None)
    else:  # legacy payloads: the sum of the shipping lines
        ship = (Money(amount=sum((s.price.amount for s in shipping), Decimal(0)), currency=shop), None)
    refunded = _refunded(node, shop)
    totals = OrderTotals(
        subtotal=subtotal[0],
        discounts=discounts[0],
        shipping=ship[0],
        tax=tax[0],
        total=total[0],
        refunded=refunded,
        outstanding=outstanding[0] if outstanding else None,
        current_total=current[0] if current else None,
    )
    sub_p, disc_p, ship_p, tax_p, total_p = (subtotal[1], discounts[1], ship[1], tax[1], total[1])
    if sub_p is None or disc_p is None or ship_p is None or tax_p is None or total_p is None:
        return totals, None
    presentment_totals = OrderTotals(
        subtotal=sub_p,
        discounts=disc_p,
        shipping=ship_p,
        tax=tax_p,
        total=total_p,
        outstanding=None,
        current_total=current[1] if current else None,
    )
    return totals, presentment_totals


def _refunded(node: JsonNode, shop: str) -> Money | None:
    """Successful refund transactions of the embedded refunds (in the transaction currency,
    which for a multi-currency order is the presentment currency: then it is not summed here)."""
    refunds = list(node["refunds"].items())
    if not refunds:
        return None
    total = Decimal(0)
    for refund in refunds:
        for txn in refund["transactions"].items():
            if txn["kind"].opt_text() != "refund" or txn["status"].opt_text() not in (None, "success"):
                continue
            code = currency(txn["currency"]) if txn["currency"].is_present else shop
            if code != shop:
                return None
            total += money_pair(txn, "amount", shop)[0].amount
    return Money(amount=total, currency=shop)
