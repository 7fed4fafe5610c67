"""Shopify Admin REST / webhook adapters.

Entities follow the gateway's topic naming: ``inventory_levels/update`` -> ``inventory-levels``,
``order_transactions/create`` -> ``order-transactions``.
"""

from __future__ import annotations

from services.translator.adapters._common import Translate
from services.translator.adapters.shopify.customers import translate_customers
from services.translator.adapters.shopify.orders import translate_orders
from services.translator.adapters.shopify.orders_native import fast_orders, native_shopify_orders
from services.translator.adapters.shopify.payments import translate_transactions
from services.translator.adapters.shopify.refunds import translate_refunds
from services.translator.adapters.shopify.stock import translate_fulfillments, translate_inventory_levels
from services.translator.fast_paths import FastTranslate

__all__ = ["FAST_ROUTES", "ROUTES"]

ROUTES: dict[tuple[str, str], Translate] = {
    ("shopify", "orders"): translate_orders,
    ("shopify", "refunds"): translate_refunds,
    ("shopify", "customers"): translate_customers,
    ("shopify", "inventory-levels"): translate_inventory_levels,
    ("shopify", "fulfillments"): translate_fulfillments,
    ("shopify", "order-transactions"): translate_transactions,
}
FAST_ROUTES: dict[tuple[str, str], FastTranslate] = (
    {("shopify", "orders"): fast_orders} if native_shopify_orders is not None else {}
)
