"""Shopify order totals, kept as the source states them: original (``total_price``) and current
(``current_total_price``, after edits and refunds), in the shop and the presentment currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from schemas.base import trusted
from schemas.common.models import Money
from schemas.orders.models import OrderTotals, ShippingLine
from services.translator.adapters import _fields as f
from services.translator.adapters.shopify._plain import (
    AnyMoney,
    money,
    money_pair,
    opt_money_pair,
    set_money,
)
from services.translator.errors import MISSING

__all__ = ["order_totals"]

Totals = dict[str, Any]
"""``OrderTotals`` as the dict the model validates from."""
_ALL = frozenset(OrderTotals.model_fields)
_PRESENTMENT = _ALL - {"refunded"}


def order_totals(
    node: f.Obj, path: str, shop: str, shipping: list[ShippingLine]
) -> tuple[OrderTotals | Totals, OrderTotals | None]:
    """The totals as ``OrderTotals`` (the dict the model validates when a computed amount is beyond
    it), and the presentment totals when the source gives every one of them."""
    subtotal = money_pair(node, "subtotal_price", path, shop)
    discounts = money_pair(node, "total_discounts", path, shop)
    tax = money_pair(node, "total_tax", path, shop)
    total = money_pair(node, "total_price", path, shop)
    current = opt_money_pair(node, "current_total_price", path, shop)
    outstanding = opt_money_pair(node, "total_outstanding", path, shop)
    shipping_set = node.get("total_shipping_price_set")
    ship: tuple[AnyMoney, Money | None]
    if shipping_set is not None:
        set_path = f"{path}.total_shipping_price_set"
        shipping_set = f.obj(shipping_set, set_path)
        ship_shop = set_money(shipping_set.get("shop_money", MISSING), f"{set_path}.shop_money")
        present = shipping_set.get("presentment_money")
        ship = (
            ship_shop,
            set_money(present, f"{set_path}.presentment_money") if present is not None else None,
        )
    else:  # legacy payloads: the sum of the shipping lines
        ship = (money(sum((s.price.amount for s in shipping), Decimal(0)), shop), None)
    refunded = _refunded(node, path, shop)
    totals = {
        "subtotal": subtotal[0],
        "discounts": discounts[0],
        "shipping": ship[0],
        "tax": tax[0],
        "total": total[0],
        "refunded": refunded,
        "outstanding": outstanding[0] if outstanding else None,
        "current_total": current[0] if current else None,
    }
    shop_totals = (
        totals if type(ship[0]) is dict or type(refunded) is dict else trusted(OrderTotals, totals, _ALL)
    )
    sub_p, disc_p, ship_p, tax_p, total_p = (subtotal[1], discounts[1], ship[1], tax[1], total[1])
    if sub_p is None or disc_p is None or ship_p is None or tax_p is None or total_p is None:
        return shop_totals, None
    presentment_totals = {
        "subtotal": sub_p,
        "discounts": disc_p,
        "shipping": ship_p,
        "tax": tax_p,
        "total": total_p,
        "refunded": None,
        "outstanding": None,
        "current_total": current[1] if current else None,
    }
    return shop_totals, trusted(OrderTotals, presentment_totals, _PRESENTMENT)


def _refunded(node: f.Obj, path: str, shop: str) -> AnyMoney | None:
    """Successful refund transactions of the embedded refunds (in the transaction currency,
    which for a multi-currency order is the presentment currency: then it is not summed here)."""
    refunds = list(f.items(node, "refunds", path))
    if not refunds:
        return None
    total = Decimal(0)
    for value, refund_path in refunds:
        refund = f.obj(value, refund_path)
        for txn_value, txn_path in f.items(refund, "transactions", refund_path):
            txn = f.obj(txn_value, txn_path)
            if f.opt_text(txn, "kind", txn_path) != "refund" or f.opt_text(txn, "status", txn_path) not in (
                None,
                "success",
            ):
                continue
            code = f.currency(txn, "currency", txn_path) if txn.get("currency") is not None else shop
            if code != shop:
                return None
            total += money_pair(txn, "amount", txn_path, shop)[0].amount
    return money(total, shop)
