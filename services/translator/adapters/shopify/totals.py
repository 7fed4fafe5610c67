"""Shopify order totals, kept as the source states them: original (``total_price``) and current
(``current_total_price``, after edits and refunds), in the shop and the presentment currency."""

from __future__ import annotations

from decimal import Decimal

from schemas.common.models import Money
from schemas.orders.models import OrderTotals, ShippingLine
from services.translator.adapters._common import currency
from services.translator.adapters.shopify._shared import money_pair, opt_money_pair, set_money
from services.translator.json_reader import JsonNode

__all__ = ["order_totals"]


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
