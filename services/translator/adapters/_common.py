"""Small helpers the commerce-channel adapters share: bounded money and quantities, ids, shapes.

Every helper raises :class:`TranslationError` naming the JSON path; :func:`route` turns what can
still fail while building the canonical models (a schema constraint, absurd nesting) into one too,
so an adapter never lets anything but a ``TranslationError`` escape.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from uuid import UUID

from pydantic import ValidationError

from schemas.base import AvroRecord
from schemas.common.models import EventMetadata, Money
from schemas.ids import EmptyIdPartError, canonical_id
from schemas.inventory.models import MovementKind, StockMovementEvent
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode, parse_json

__all__ = [
    "Translate",
    "absolute_count",
    "amount",
    "canonical",
    "change_is_new",
    "currency",
    "currency_or_header",
    "document",
    "item_key",
    "location_code",
    "money",
    "per_unit",
    "quantity",
    "rate",
    "route",
    "string_map",
    "unwrap",
]

Translate = Callable[[IngressRecord], Sequence[AvroRecord]]

# Avro decimal(20, 4) leaves 16 integer digits; stay well inside so sums of lines still fit.
_AMOUNT_LIMIT = Decimal(10) ** 14
_QUANTITY_LIMIT = 10**9
_FOUR_PLACES = Decimal("0.0001")
_TEN_PLACES = Decimal("1E-10")
_CURRENCY = re.compile(r"[A-Z]{3}")


def route(translate: Translate) -> Translate:
    """Wrap an adapter so that any canonical-model violation is a TranslationError too."""

    @functools.wraps(translate)
    def wrapper(record: IngressRecord) -> Sequence[AvroRecord]:
        try:
            return translate(record)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise TranslationError(
                f"canonical {where}", first["msg"], first.get("input"), "does not fit the canonical schema"
            ) from error
        except RecursionError as error:
            raise TranslationError("$", "JSON nested less deeply", "too deep a nesting") from error
        except EmptyIdPartError as error:
            raise TranslationError("id", "a non-empty native id", str(error)) from error

    return wrapper


def document(record: IngressRecord) -> JsonNode:
    return parse_json(record.raw)


def unwrap(root: JsonNode, single: str, plural: str) -> list[JsonNode]:
    """Shopify-style envelopes: ``{"order": {...}}``, ``{"orders": [...]}`` or the bare object
    (webhook bodies); a bare JSON array is a list too (WooCommerce list endpoints)."""
    if isinstance(root.value, list):
        return list(root.items())
    if not isinstance(root.value, dict):
        raise TranslationError(
            root.path, f"an object, {{{single!r}: ...}} or {{{plural!r}: [...]}}", root.value
        )
    if plural in root.value:
        items = list(root[plural].items())
        if not isinstance(root.value[plural], list):
            raise TranslationError(root[plural].path, "array", root.value[plural])
        return items
    if single in root.value:
        return [root[single]]
    return [root]


def amount(node: JsonNode) -> Decimal:
    """A money amount exactly as sent: more than 4 decimal places or absurd size is a rejection,
    never a silent rounding."""
    value = node.decimal()
    if abs(value) >= _AMOUNT_LIMIT:
        raise TranslationError(node.path, f"an amount below {_AMOUNT_LIMIT:,.0f}", node.value)
    if value != value.quantize(_FOUR_PLACES):
        raise TranslationError(node.path, "at most 4 decimal places", node.value)
    return value


def currency(node: JsonNode) -> str:
    code = node.text().strip().upper()
    if not _CURRENCY.fullmatch(code):
        raise TranslationError(node.path, "ISO 4217 currency code", node.value)
    return code


def currency_or_header(node: JsonNode, record: IngressRecord) -> str:
    """The payload's currency, else the ``esb-shop-currency`` ingress header; neither is a rejection
    at the payload's path."""
    if node.is_absent and record.shop_currency:
        return currency(JsonNode(record.shop_currency, "header esb-shop-currency"))
    return currency(node)


def money(node: JsonNode, code: str) -> Money:
    return Money(amount=amount(node), currency=code)


def quantity(node: JsonNode) -> int:
    value = node.integer()
    if abs(value) > _QUANTITY_LIMIT:
        raise TranslationError(node.path, f"a quantity within ±{_QUANTITY_LIMIT:,}", value)
    return value


def rate(node: JsonNode) -> Decimal | None:
    """A tax rate fraction. Sources send floats (Shopify ``0.06``); float artefacts beyond 10
    places are rounded here on purpose: a rate is not money."""
    if node.is_absent:
        return None
    value = node.decimal()
    if not 0 <= value <= 100:
        raise TranslationError(node.path, "a tax rate fraction", node.value)
    return value.quantize(_TEN_PLACES, rounding=ROUND_HALF_EVEN)


def per_unit(total: Decimal, units: int) -> Decimal:
    """A unit price from a line total (Amazon, WooCommerce): explicitly rounded half-even to 4
    places; the line total stays the source's exact figure."""
    if units <= 0:
        return total
    return (total / units).quantize(_FOUR_PLACES, rounding=ROUND_HALF_EVEN)


def canonical(record: IngressRecord, entity: str, native_id: str) -> UUID:
    """``canonical_id`` of the record's system and account."""
    return canonical_id(record.system, record.account, entity, native_id)


def absolute_count(
    metadata: EventMetadata, *, sku: str, location: str, on_hand: int, reason: str
) -> StockMovementEvent:
    """A source's absolute stock level as the count movement the inventory projector folds.

    Sources report levels (Shopify ``available``, WooCommerce ``stock_quantity``, Amazon FBA
    quantities); the bus's own levels are the projector's output, so a source level enters as an
    ``ABSOLUTE_COUNT`` whose movement id is the (deterministic) event id of this delivery.
    """
    return StockMovementEvent(
        metadata=metadata,
        movement_id=metadata.event_id,
        kind=MovementKind.ABSOLUTE_COUNT,
        sku=sku,
        location=location,
        quantity=on_hand,
        reason=reason,
    )


def location_code(system: str, native: str) -> str:
    """Canonical location code of a source location until a location crosswalk exists."""
    return f"{system}:{native}"


def item_key(sku: str | None, system: str, kind: str, native: str | None, node: JsonNode) -> str:
    """The SKU, or a namespaced native item reference when the source has none (WooCommerce
    products with ``sku: ""``, Shopify inventory items): stock positions need a key."""
    if sku:
        return sku
    if native:
        return f"{system}:{kind}:{native}"
    raise TranslationError(node.path, "a SKU or an item id", node.value)


def string_map(pairs: Iterable[tuple[str, JsonNode]]) -> dict[str, str]:
    """Custom attributes as strings; structured values (WooCommerce meta) become compact JSON."""
    result: dict[str, str] = {}
    for key, node in pairs:
        if node.is_absent:
            continue
        _check_text(node, key)
        value = node.value
        if isinstance(value, str | int) and not isinstance(value, bool):
            result[key] = node.text()
        else:
            result[key] = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
            _check_text(node, result[key])
    return result


def _check_text(node: JsonNode, text: str) -> None:
    JsonNode(text, node.path).text()  # rejects lone surrogates inside structured values


def change_is_new(created: datetime, updated: datetime | None) -> bool:
    """Polled payloads do not say whether the entity is new: unchanged since creation means new."""
    return updated is None or updated <= created
