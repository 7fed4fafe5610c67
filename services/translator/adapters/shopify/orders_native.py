"""Shopify orders through the compiled fast path (``esb_native``, Rust; issue #5).

``esb_native.shopify_orders`` reads the webhook body and writes each order's ``Order`` record in
Avro, or declines (``None``) whatever it does not reproduce byte for byte, and then
:func:`~services.translator.adapters.shopify.orders.translate_orders` translates the payload,
every rejection included. What is left is done here, by the same functions the Python adapter
uses: the change kind, the event metadata and its Avro body. ``native/README.md`` says what the
extension declines and how it is held to the adapter (differential and mutation tests).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bus.avro_fast import compile_encoder
from bus.serde import AvroBody
from schemas.loader import parsed_schema
from schemas.orders.models import OrderChange, OrderEvent
from services.translator.adapters.shopify.orders import order_change
from services.translator.ingress import IngressRecord
from services.translator.metadata import event_metadata

__all__ = ["fast_orders", "native_shopify_orders"]

NativeOrders = Callable[
    [bytes, str, str], list[tuple[str, str, int, int | None, int | None, int | None, bytes]] | None
]

try:
    from esb_native import shopify_orders as _shopify_orders

    native_shopify_orders: NativeOrders | None = _shopify_orders
except ImportError:  # the extension is built by `make install`; without it the adapter does it all
    native_shopify_orders = None

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The enum is written as the index of its symbol (OrderChange.avsc lists them in this order).
_CHANGE_INDEX = {change: bytes([2 * index]) for index, change in enumerate(OrderChange)}
_metadata_schema = parsed_schema("com.esb.canonical.common.EventMetadata")
_write_metadata = compile_encoder(_metadata_schema, _metadata_schema.get("__named_schemas", {}))


def _instant(micros: int | None) -> datetime | None:
    return None if micros is None else _EPOCH + timedelta(microseconds=micros)


def fast_orders(record: IngressRecord) -> list[tuple[str, AvroBody]] | None:
    """Each order's key and ``OrderEvent`` body, or ``None`` when the extension declines."""
    if native_shopify_orders is None:
        return None
    orders = native_shopify_orders(record.raw, record.system, record.account)
    if orders is None:
        return None
    try:
        return [_order_event(record, *order) for order in orders]
    except Exception:  # metadata only the validating path writes: the adapter decides
        return None


def _order_event(
    record: IngressRecord,
    order_id: str,
    native_id: str,
    placed_us: int,
    updated_us: int | None,
    cancelled_us: int | None,
    closed_us: int | None,
    order: bytes,
) -> tuple[str, AvroBody]:
    placed_at = _EPOCH + timedelta(microseconds=placed_us)
    updated_at = _instant(updated_us)
    change = order_change(record, placed_at, updated_at, _instant(cancelled_us), _instant(closed_us))
    metadata = event_metadata(
        record,
        event_type=f"order.{change.lower()}",
        entity="order",
        native_id=native_id,
        occurred_at=updated_at or placed_at,
    )
    body = bytearray()
    _write_metadata(metadata, body)
    body += _CHANGE_INDEX[change]
    body += order
    return order_id, AvroBody(OrderEvent, bytes(body))
