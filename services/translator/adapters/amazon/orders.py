"""Amazon SP-API Orders v0 -> OrderEvent: one order header joined with its items.

``getOrders`` returns headers only (no lines, no tax breakdown) and ``getOrderItems`` returns the
items only (no dates, status or total), so an order is translated from both, accepted as:

* ``{"order": <Order>, "items": <getOrderItems response | payload | [OrderItem]>}`` (the join), or
* an ``Order`` with an ``OrderItems`` array embedded, alone or in a ``getOrders`` response.

An order header without its items is rejected at its ``OrderItems`` path: publishing it would
state a tax and a subtotal Amazon did not give. ``ItemPrice``/``ItemTax`` are for the whole line.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from schemas.common.models import DiscountAllocation, Money, TaxLine
from schemas.orders.models import (
    FinancialStatus,
    FulfillmentStatus,
    Order,
    OrderCancellation,
    OrderChange,
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
    per_unit,
    quantity,
    route,
)
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode
from services.translator.metadata import event_metadata

__all__ = ["translate_orders"]

SYSTEM = "amazon"

STATUS: dict[str, tuple[FinancialStatus, FulfillmentStatus]] = {
    "PendingAvailability": (FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED),
    "Pending": (FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED),
    "Unshipped": (FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED),
    "PartiallyShipped": (FinancialStatus.PAID, FulfillmentStatus.PARTIALLY_FULFILLED),
    "Shipped": (FinancialStatus.PAID, FulfillmentStatus.FULFILLED),
    "InvoiceUnconfirmed": (FinancialStatus.PAID, FulfillmentStatus.FULFILLED),
    "Canceled": (FinancialStatus.VOIDED, FulfillmentStatus.UNFULFILLED),
    "Unfulfillable": (FinancialStatus.UNKNOWN, FulfillmentStatus.UNKNOWN),
}
ATTRIBUTES = (
    "MarketplaceId",
    "SalesChannel",
    "FulfillmentChannel",
    "OrderType",
    "ShipServiceLevel",
    "ShipmentServiceLevelCategory",
    "PaymentMethod",
)


@route
def translate_orders(record: IngressRecord) -> Sequence[OrderEvent]:
    root = document(record)
    if root["order"].is_present:
        items = _items_of(root["items"], root.path_get("order", "AmazonOrderId").text())
        return [_order_event(record, root["order"], items)]
    payload = root["payload"] if root["payload"].is_present else root
    orders = list(payload["Orders"].items()) if payload["Orders"].is_present else [payload]
    return [_order_event(record, order, order["OrderItems"]) for order in orders]


def _items_of(node: JsonNode, root_order_id: str) -> JsonNode:
    """The OrderItems array of a getOrderItems response, its payload, or the array itself."""
    payload = node["payload"] if isinstance(node.value, dict) and node["payload"].is_present else node
    if isinstance(payload.value, dict):
        owner, expected = payload["AmazonOrderId"], root_order_id
        if owner.is_present and owner.text() != expected:
            raise TranslationError(owner.path, expected, owner.value, "items of another order")
        if payload["NextToken"].is_present:
            raise TranslationError(
                payload["NextToken"].path, "every page of the order's items", "a NextToken"
            )
        return payload["OrderItems"]
    return payload


def _money(node: JsonNode, code: str) -> Money:
    """``{"CurrencyCode": "USD", "Amount": "10.00"}``: one currency per order."""
    found = currency(node["CurrencyCode"])
    if found != code:
        raise TranslationError(node["CurrencyCode"].path, f"the order currency {code}", found)
    return Money(amount=amount(node["Amount"]), currency=code)


def _opt(node: JsonNode, code: str) -> Money | None:
    return _money(node, code) if node.is_present else None


def _sum(values: Sequence[Money | None], code: str) -> Money:
    return Money(amount=sum((v.amount for v in values if v is not None), Decimal(0)), currency=code)


def _order_event(record: IngressRecord, order: JsonNode, items_node: JsonNode) -> OrderEvent:
    native_id = order["AmazonOrderId"].text()
    if items_node.is_absent:
        raise TranslationError(
            items_node.path,
            "the order's items (getOrderItems joined to the order)",
            items_node.value,
            "an Amazon order header has no lines or tax breakdown",
        )
    items = list(items_node.items())
    for item in items:
        item_order = item["AmazonOrderId"]
        if item_order.is_present and item_order.text() != native_id:
            raise TranslationError(item_order.path, native_id, item_order.value, "items of another order")
    code = _order_currency(order, items)
    placed_at = order["PurchaseDate"].timestamp()
    updated_at = order["LastUpdateDate"].opt_timestamp()
    status = order["OrderStatus"].text()
    financial, fulfillment = STATUS.get(status, (FinancialStatus.UNKNOWN, FulfillmentStatus.UNKNOWN))
    lines = [_line(item, code) for item in items]
    item_price = _sum([_opt(i["ItemPrice"], code) for i in items], code)
    promotions = _sum([_opt(i["PromotionDiscount"], code) for i in items], code)
    shipping = _sum([_opt(i["ShippingPrice"], code) for i in items], code)
    ship_discount = _sum([_opt(i["ShippingDiscount"], code) for i in items], code)
    ship_tax = _sum([_opt(i["ShippingTax"], code) for i in items], code)
    tax = _sum([_opt(i["ItemTax"], code) for i in items] + [ship_tax], code)
    discounts = promotions.amount + ship_discount.amount
    exclusive = item_price.amount - discounts + shipping.amount
    # Pending orders have no OrderTotal yet: then the total is the items' sum, tax exclusive.
    total = _opt(order["OrderTotal"], code) or Money(amount=exclusive + tax.amount, currency=code)
    # Amazon does not flag VAT-inclusive marketplaces; their OrderTotal leaves ItemTax out.
    taxes_included = tax.amount != 0 and total.amount == exclusive
    change = OrderChange.CANCELLED if status == "Canceled" else None
    if change is None:
        change = OrderChange.PLACED if change_is_new(placed_at, updated_at) else OrderChange.UPDATED
    shipping_lines = []
    if any(i["ShippingPrice"].is_present for i in items):
        shipping_lines.append(
            ShippingLine(
                title=order["ShipServiceLevel"].opt_text() or "shipping",
                price=shipping,
                discounted_price=Money(amount=shipping.amount - ship_discount.amount, currency=code),
                tax_lines=[TaxLine(title="ShippingTax", amount=ship_tax)],
            )
        )
    attributes = {key: order[key].text() for key in ATTRIBUTES if order[key].is_present}
    for flag in ("IsPrime", "IsBusinessOrder", "IsReplacementOrder"):
        if order[flag].is_present:
            attributes[flag] = str(order[flag].boolean()).lower()
    metadata = event_metadata(
        record,
        event_type=f"order.{change.lower()}",
        entity="order",
        native_id=native_id,
        occurred_at=updated_at or placed_at,
    )
    return OrderEvent(
        metadata=metadata,
        change=change,
        order=Order(
            order_id=canonical(record, "order", native_id),
            channel=SYSTEM,
            account=record.account,
            native_id=native_id,
            display_number=native_id,
            placed_at=placed_at,
            updated_at=updated_at,
            lines=lines,
            shipping_lines=shipping_lines,
            shop_currency=code,
            taxes_included=taxes_included,
            totals=OrderTotals(
                subtotal=Money(amount=item_price.amount - promotions.amount, currency=code),
                discounts=Money(amount=discounts, currency=code),
                shipping=shipping,
                tax=tax,
                total=total,
            ),
            financial_status=financial,
            fulfillment_status=fulfillment,
            source_status=status,
            cancellation=OrderCancellation() if status == "Canceled" else None,
            attributes=attributes,
        ),
    )


def _order_currency(order: JsonNode, items: list[JsonNode]) -> str:
    if order["OrderTotal"].is_present:
        return currency(order.path_get("OrderTotal", "CurrencyCode"))
    for item in items:
        if item["ItemPrice"].is_present:
            return currency(item.path_get("ItemPrice", "CurrencyCode"))
    raise TranslationError(
        order["OrderTotal"].path, "an OrderTotal or priced items", order["OrderTotal"].value
    )


def _line(item: JsonNode, code: str) -> OrderLine:
    units = quantity(item["QuantityOrdered"])
    price = _opt(item["ItemPrice"], code) or Money(amount=Decimal(0), currency=code)
    promotion = _opt(item["PromotionDiscount"], code)
    tax = _opt(item["ItemTax"], code)
    properties = {}
    if item["IsGift"].is_present:
        properties["IsGift"] = str(item["IsGift"].boolean()).lower()
    cancel = item["BuyerRequestedCancel"]
    if cancel.is_present and cancel["IsBuyerRequestedCancel"].opt_boolean(False):
        properties["BuyerRequestedCancel"] = "true"
        reason = cancel["BuyerCancelReason"].opt_text()
        if reason:
            properties["BuyerCancelReason"] = reason
    discount = promotion.amount if promotion else Decimal(0)
    shipped = item["QuantityShipped"]
    return OrderLine(
        line_id=item["OrderItemId"].text(),
        sku=item["SellerSKU"].opt_text(),
        product_id=item["ASIN"].opt_text(),
        title=item["Title"].opt_text() or item["SellerSKU"].opt_text() or "",
        quantity=units,
        unit_price=Money(amount=per_unit(price.amount, units), currency=code),
        discount_allocations=(
            [DiscountAllocation(amount=promotion, title="PromotionDiscount")]
            if promotion and discount
            else []
        ),
        tax_lines=[TaxLine(title="ItemTax", amount=tax)] if tax else [],
        line_total=Money(amount=price.amount - discount, currency=code),
        fulfillable_quantity=units - quantity(shipped) if shipped.is_present else None,
        properties=properties,
    )
