"""Helpers for translator tests: conformance files, ingress records, Avro round trips, reconciliation."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from typing import Any

import fastavro

from schemas.base import AvroRecord
from schemas.loader import parsed_schema
from schemas.orders.models import Order, OrderTotals
from services.translator.ingress import IngressRecord

__all__ = [
    "CONFORMANCE",
    "RECEIVED_AT",
    "avro_roundtrip",
    "conformance",
    "lines_gross",
    "make_record",
    "reconciled_total",
    "translate",
]

# The shared corpus is read in place, never copied: ../shared/conformance next to the repository.
CONFORMANCE = Path(
    os.environ.get("ESB_CONFORMANCE_DIR", Path(__file__).resolve().parents[2] / "shared" / "conformance")
)
RECEIVED_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
_MODULES = {"shopify": "shopify", "woocommerce": "woocommerce", "amazon": "amazon", "magento": "magento"}


def conformance(folder: str, name: str) -> bytes:
    return (CONFORMANCE / folder / name).read_bytes()


def make_record(system: str, entity: str, raw: bytes, **headers: Any) -> IngressRecord:
    return IngressRecord(
        raw=raw, system=system, entity=entity, account="acme", received_at=RECEIVED_AT, **headers
    )


def translate(system: str, entity: str, raw: bytes, **headers: Any) -> Sequence[AvroRecord]:
    routes = import_module(f"services.translator.adapters.{_MODULES[system]}").ROUTES
    return routes[(system, entity)](make_record(system, entity, raw, **headers))  # type: ignore[no-any-return]


def avro_roundtrip(event: AvroRecord) -> AvroRecord:
    """Write with fastavro against the registered schema, read back, rebuild the model."""
    schema = parsed_schema(type(event).avro_name())
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, event.to_avro())
    buffer.seek(0)
    return type(event).from_avro(fastavro.schemaless_reader(buffer, schema))


def lines_gross(order: Order) -> Decimal:
    """Lines before discounts, in the shop currency: each line's total plus its allocations."""
    return sum(
        (
            (line.line_total.amount if line.line_total else line.unit_price.amount * line.quantity)
            + sum((a.amount.amount for a in line.discount_allocations), Decimal(0))
            for line in order.lines
        ),
        Decimal(0),
    )


def reconciled_total(lines: Decimal, totals: OrderTotals, taxes_included: bool) -> Decimal:
    """lines - discounts + shipping + tax (tax already inside the prices when taxes_included)."""
    tax = Decimal(0) if taxes_included else totals.tax.amount
    return lines - totals.discounts.amount + totals.shipping.amount + tax
