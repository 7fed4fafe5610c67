"""Helpers for the payments/back-office translator tests: run an adapter on a conformance file,
check the Avro round trip and the order arithmetic."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from importlib import import_module
from pathlib import Path

from fastavro import schemaless_reader, schemaless_writer

from schemas.base import AvroRecord
from schemas.loader import parsed_schema
from schemas.orders.models import Order
from services.translator.ingress import IngressRecord

__all__ = ["CONFORMANCE", "assert_avro_round_trip", "reconcile", "record_of", "translate", "translate_raw"]

CONFORMANCE = Path(
    os.environ.get("ESB_CONFORMANCE_DIR", Path(__file__).resolve().parents[2] / "shared" / "conformance")
)
RECEIVED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def record_of(system: str, entity: str, raw: bytes, account: str = "acme") -> IngressRecord:
    return IngressRecord(raw=raw, system=system, entity=entity, account=account, received_at=RECEIVED)


_MODULES = {
    "stripe": "stripe",
    "adyen": "adyen",
    "netsuite": "netsuite",
    "business-central": "business_central",
    "sap": "sap",
    "edi": "edi_x12",
}


def translate_raw(system: str, entity: str, raw: bytes) -> Sequence[AvroRecord]:
    """Through the adapter module's own ROUTES (independent of other adapters' health)."""
    module = import_module(f"services.translator.adapters.{_MODULES[system]}")
    return module.ROUTES[(system, entity)](record_of(system, entity, raw))  # type: ignore[no-any-return]


def translate(system: str, entity: str, relative: str) -> Sequence[AvroRecord]:
    return translate_raw(system, entity, (CONFORMANCE / relative).read_bytes())


def assert_avro_round_trip(event: AvroRecord) -> None:
    """The event serializes with fastavro against its .avsc and reads back equal."""
    schema = parsed_schema(type(event).avro_name())
    buffer = io.BytesIO()
    schemaless_writer(buffer, schema, event.to_avro())
    buffer.seek(0)
    assert type(event).from_avro(schemaless_reader(buffer, schema, schema)) == event


def reconcile(order: Order) -> Decimal:
    """lines - discounts + shipping + tax, asserted equal to the total, in the order's currency."""
    currencies = {line.unit_price.currency for line in order.lines} | {
        order.totals.total.currency,
        order.totals.tax.currency,
        order.totals.discounts.currency,
        order.totals.shipping.currency,
    }
    assert currencies == {order.shop_currency}
    lines = sum((line.unit_price.amount * line.quantity for line in order.lines), Decimal(0))
    computed = lines - order.totals.discounts.amount + order.totals.shipping.amount + order.totals.tax.amount
    assert computed == order.totals.total.amount
    return computed
