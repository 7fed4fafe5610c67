"""Deterministic canonical ids: the same source entity always maps to the same UUID (and Kafka key)."""

from __future__ import annotations

import json
import uuid

__all__ = ["CANONICAL_NAMESPACE", "canonical_id", "channel_stock_key", "stock_key"]

# Fixed forever: changing it would re-key every topic.
CANONICAL_NAMESPACE = uuid.UUID("6f1c3f0e-5a7d-5b8e-9c61-3d2f4e8a1b90")


class EmptyIdPartError(ValueError):
    """A part of a canonical id is blank: the source sent an empty id."""


def canonical_id(system: str, account: str, entity: str, native_id: str | int) -> uuid.UUID:
    """UUIDv5 of (system, account, entity, native id).

    ``system`` and ``entity`` are case-insensitive (``"Shopify"`` == ``"shopify"``); ``account`` and
    ``native_id`` are kept as given because sources treat them as case-sensitive. The parts are
    JSON-encoded as a list so that no separator inside an id (``gid://shopify/Order/1``) can collide.
    """
    parts = [system.strip().lower(), account.strip(), entity.strip().lower(), str(native_id).strip()]
    if not all(parts):
        raise EmptyIdPartError(f"every part of a canonical id must be non-empty: {parts}")
    return uuid.uuid5(CANONICAL_NAMESPACE, json.dumps(parts, ensure_ascii=False, separators=(",", ":")))


def stock_key(sku: str, location: str) -> uuid.UUID:
    """Key of inventory topics: one stock position per (SKU, location code) across all systems."""
    return canonical_id("esb", "inventory", "stock-position", json.dumps([sku, location]))


def channel_stock_key(sku: str, channel: str) -> uuid.UUID:
    """Key of per-channel availability: one SKU as one sales channel (storefront, marketplace) sees it."""
    return canonical_id("esb", "inventory", "channel-stock", json.dumps([sku, channel]))
