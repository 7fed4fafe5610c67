"""Shopify money, addresses and tags, shared by the Shopify adapters.

Shopify sends each amount as a string scalar in the shop currency plus, since 2019, a ``*_set``
twin ``{shop_money, presentment_money}``; legacy payloads have only the scalar.
"""

from __future__ import annotations

from schemas.common.models import Address, Money
from services.translator.adapters._common import amount, currency
from services.translator.errors import TranslationError
from services.translator.json_reader import JsonNode

__all__ = ["SYSTEM", "MoneyPair", "address", "money_pair", "opt_money_pair", "set_money", "tags"]

SYSTEM = "shopify"

MoneyPair = tuple[Money, Money | None]
"""(shop money, presentment money when the source gives it)"""


def set_money(node: JsonNode) -> Money:
    """``{"amount": "1.00", "currency_code": "USD"}``; transactions use ``currency`` instead."""
    code_node = node["currency_code"] if node["currency_code"].is_present else node["currency"]
    return Money(amount=amount(node["amount"]), currency=currency(code_node))


def money_pair(parent: JsonNode, field: str, shop_currency: str) -> MoneyPair:
    """``parent[field]`` in the shop currency, and in the presentment currency when ``field_set`` exists."""
    twin = parent[f"{field}_set"]
    if twin.is_present:
        shop = set_money(twin["shop_money"])
        if shop.currency != shop_currency:
            raise TranslationError(
                twin.path_get("shop_money", "currency_code").path, shop_currency, shop.currency
            )
        presentment = twin["presentment_money"]
        return shop, set_money(presentment) if presentment.is_present else None
    return Money(amount=amount(parent[field]), currency=shop_currency), None


def opt_money_pair(parent: JsonNode, field: str, shop_currency: str) -> MoneyPair | None:
    if parent[field].is_absent and parent[f"{field}_set"].is_absent:
        return None
    return money_pair(parent, field, shop_currency)


def address(node: JsonNode) -> Address | None:
    if node.is_absent or not node.keys():
        return None
    country = node["country_code"].opt_text()
    province = node["province_code"].opt_text()
    street = [line for line in (node["address1"].opt_text(), node["address2"].opt_text()) if line]
    name = node["name"].opt_text() or " ".join(
        part for part in (node["first_name"].opt_text(), node["last_name"].opt_text()) if part
    )
    return Address(
        name=name or None,
        company=node["company"].opt_text(),
        street_lines=street,
        city=node["city"].opt_text(),
        region=node["province"].opt_text(),
        # Shopify's province_code is the subdivision part only ("KY"); ISO 3166-2 is "US-KY".
        region_code=f"{country}-{province}" if country and province else None,
        postal_code=node["zip"].opt_text(),
        country_code=country,
        phone=node["phone"].opt_text(),
    )


def tags(node: JsonNode) -> list[str]:
    """Shopify tags are one comma-separated string."""
    text = node.opt_text()
    return [tag.strip() for tag in text.split(",") if tag.strip()] if text else []
