"""Reads of plain JSON objects with :class:`JsonNode`'s rules, for adapters on a hot path.

A ``JsonNode`` lookup makes a node and a path string; a Shopify order needs ~300 of them. These
functions take the object, the key and the object's path: the common shape (an ASCII string, a
plain amount, an int) is accepted right here, anything else goes to ``JsonNode`` and the helpers of
``_common``, so the rules and the rejections (path, expected, found) stay theirs. The path string of
a field is built only when the field is not of the common shape.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from services.translator.adapters import _common
from services.translator.errors import MISSING, TranslationError
from services.translator.json_reader import JsonNode

__all__ = [
    "PLAIN_AMOUNT",
    "Obj",
    "amount",
    "currency",
    "items",
    "node",
    "obj",
    "opt_boolean",
    "opt_text",
    "opt_timestamp",
    "quantity",
    "rate",
    "text",
    "timestamp",
    "unwrap",
]

Obj = dict[str, Any]
"""A JSON object; the functions below take it with its path (``$.line_items[0]``)."""

# A plain amount that _common.amount accepts unchanged: below 10^14, at most 4 decimal places.
PLAIN_AMOUNT = re.compile(r"-?[0-9]{1,14}(?:\.[0-9]{0,4})?")
_QUANTITY_LIMIT = 10**9  # _common.quantity's
_TEN_PLACES = Decimal("1E-10")  # _common.rate's
_fromisoformat = datetime.fromisoformat


def node(parent: Obj, key: str, path: str) -> JsonNode:
    """``parent[key]`` as a JsonNode (the slow path: its path string is built)."""
    return JsonNode(parent.get(key, MISSING), f"{path}.{key}")


def obj(value: Any, path: str) -> Obj:
    """An object inside the document (an order, a line item); anything else is a rejection."""
    if type(value) is dict:
        return value
    raise TranslationError(path, "object", value)


def items(parent: Obj, key: str, path: str) -> list[tuple[Any, str]]:
    """Each element of the array ``parent[key]`` with its path; absent or null is no element."""
    value = parent.get(key)
    if value is None:
        return []
    prefix = f"{path}.{key}"
    if type(value) is not list:
        raise TranslationError(prefix, "array", value)
    return [(item, f"{prefix}[{index}]") for index, item in enumerate(value)]


def text(parent: Obj, key: str, path: str) -> str:
    value = parent.get(key)
    if type(value) is str and value.isascii():
        return value
    if type(value) is int:  # ids: kept exact as strings
        return str(value)
    return node(parent, key, path).text()


def opt_text(parent: Obj, key: str, path: str) -> str | None:
    value = parent.get(key)
    if value is None:
        return None
    if type(value) is str and value.isascii():
        return value if value.strip() else None
    if type(value) is int:
        return str(value)
    return node(parent, key, path).opt_text()


def opt_boolean(parent: Obj, key: str, path: str, default: bool | None = None) -> bool | None:
    value = parent.get(key)
    if value is None:
        return default
    if value is True or value is False:
        return value
    return node(parent, key, path).opt_boolean(default)


def timestamp(parent: Obj, key: str, path: str) -> datetime:
    """An ISO-8601 instant with an offset, in UTC (``JsonNode.timestamp``'s rules)."""
    value = parent.get(key)
    if type(value) is str and value.isascii():
        try:
            parsed = _fromisoformat(value.strip().replace(" ", "T", 1))
            if parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            pass  # JsonNode names the rejection
    return node(parent, key, path).timestamp()


def opt_timestamp(parent: Obj, key: str, path: str) -> datetime | None:
    value = parent.get(key)
    if value is None or (type(value) is str and not value.strip()):
        return None
    return timestamp(parent, key, path)


def quantity(parent: Obj, key: str, path: str) -> int:
    value = parent.get(key)
    if type(value) is int and -_QUANTITY_LIMIT <= value <= _QUANTITY_LIMIT:
        return value
    return _common.quantity(node(parent, key, path))


def rate(parent: Obj, key: str, path: str) -> Decimal | None:
    """A tax rate fraction (``_common.rate``'s rules); a JSON number arrives as a Decimal."""
    value = parent.get(key)
    if value is None:
        return None
    if type(value) is Decimal and value.is_finite() and 0 <= value <= 100:
        return value.quantize(_TEN_PLACES, rounding=ROUND_HALF_EVEN)
    return _common.rate(node(parent, key, path))


def amount(parent: Obj, key: str, path: str) -> Decimal:
    """A money amount exactly as sent (``_common.amount``'s rules)."""
    value = parent.get(key)
    if type(value) is str and PLAIN_AMOUNT.fullmatch(value):
        return Decimal(value)
    return _common.amount(node(parent, key, path))


def currency(parent: Obj, key: str, path: str) -> str:
    """An ISO 4217 code (``_common.currency``'s rules)."""
    value = parent.get(key)
    if type(value) is str and len(value) == 3 and value.isascii() and value.isalpha() and value.isupper():
        return value
    return _common.currency(node(parent, key, path))


def unwrap(root: Any, single: str, plural: str) -> list[tuple[Any, str]]:
    """``_common.unwrap`` on the plain document: each entity with its path."""
    if type(root) is list:
        return [(item, f"$[{index}]") for index, item in enumerate(root)]
    if type(root) is not dict:
        raise TranslationError("$", f"an object, {{{single!r}: ...}} or {{{plural!r}: [...]}}", root)
    if plural in root:
        many = root[plural]
        if type(many) is not list:
            raise TranslationError(f"$.{plural}", "array", many)
        return list(items(root, plural, "$"))
    if single in root:
        return [(root[single], f"$.{single}")]
    return [(root, "$")]
