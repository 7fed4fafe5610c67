"""WooCommerce REST ``wc/v3`` adapters (webhook bodies have the same shapes).

Dates: ``*_gmt`` fields are UTC without a zone; the site-local ``date_*`` twins are never used.
"""

from __future__ import annotations

from services.translator.adapters._common import Translate
from services.translator.adapters.woocommerce.accounts import translate_customers, translate_products
from services.translator.adapters.woocommerce.orders import translate_orders
from services.translator.adapters.woocommerce.refunds import translate_refunds

__all__ = ["ROUTES"]

ROUTES: dict[tuple[str, str], Translate] = {
    ("woocommerce", "orders"): translate_orders,
    ("woocommerce", "refunds"): translate_refunds,
    ("woocommerce", "customers"): translate_customers,
    ("woocommerce", "products"): translate_products,
}
