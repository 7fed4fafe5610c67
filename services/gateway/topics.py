"""Ingress topic names: ``<prefix>ingress.<system>.<entity>``, entity taken from the provider's topic.

Shopify ``orders/create`` -> ``orders``; ``inventory_levels/update`` -> ``inventory-levels``.
WooCommerce ``order.created`` -> ``orders``. Stripe and Adyen each keep one ordered stream
(``events``, ``notifications``): their event types are many and span objects that must stay in order.
"""

from __future__ import annotations

import re

__all__ = [
    "InvalidTopicError",
    "ingress_topic",
    "shopify_entity",
    "woocommerce_entity",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class InvalidTopicError(ValueError):
    """The provider's topic header cannot be turned into a topic name: answer 400."""


def _clean(raw: str) -> str:
    name = raw.strip().lower().replace("_", "-")
    if not _NAME.match(name):
        raise InvalidTopicError(f"not a valid topic component: {raw[:64]!r}")
    return name


def ingress_topic(prefix: str, system: str, entity: str) -> str:
    return f"{prefix}ingress.{_clean(system)}.{_clean(entity)}"


def shopify_entity(shopify_topic: str) -> str:
    """``orders/create`` -> ``orders`` (Shopify topics already name the resource in the plural)."""
    resource = shopify_topic.partition("/")[0]
    return _clean(resource)


def woocommerce_entity(wc_topic: str) -> str:
    """``order.created`` -> ``orders``; ``action.woocommerce_x`` -> ``actions``."""
    resource = _clean(wc_topic.partition(".")[0])
    return resource if resource.endswith("s") else resource + "s"
