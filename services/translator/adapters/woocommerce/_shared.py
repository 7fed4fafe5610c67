"""WooCommerce helpers shared by its adapters: UTC dates, names with HTML entities, addresses, meta."""

from __future__ import annotations

import html

from schemas.common.models import Address
from services.translator.adapters._common import string_map
from services.translator.json_reader import JsonNode

__all__ = ["SYSTEM", "address", "meta", "name", "utc"]

SYSTEM = "woocommerce"


def utc(node: JsonNode, field: str) -> JsonNode:
    """``date_created_gmt`` (UTC, no zone); the site-local ``date_created`` is never used."""
    return node[f"{field}_gmt"]


def name(node: JsonNode) -> str:
    return html.unescape(node.opt_text() or "")


def address(node: JsonNode) -> Address | None:
    if node.is_absent:
        return None
    street = [s for s in (node["address_1"].opt_text(), node["address_2"].opt_text()) if s]
    name = " ".join(p for p in (node["first_name"].opt_text(), node["last_name"].opt_text()) if p)
    country = node["country"].opt_text()
    state = node["state"].opt_text()
    if not (street or name or country):
        return None
    return Address(
        name=name or None,
        company=node["company"].opt_text(),
        street_lines=street,
        city=node["city"].opt_text(),
        region_code=f"{country}-{state}" if country and state else None,  # Woo states are codes ("CA")
        postal_code=node["postcode"].opt_text(),
        country_code=country,
        phone=node["phone"].opt_text(),
    )


def meta(node: JsonNode) -> dict[str, str]:
    """Visible meta data only: keys starting with "_" are WooCommerce/plugin internals."""
    pairs = ((m["key"].text(), m["value"]) for m in node["meta_data"].items())
    return string_map((key, value) for key, value in pairs if not key.startswith("_"))
