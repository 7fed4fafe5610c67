"""Golden-file tests: Magento 2 conformance files -> canonical events with the source's figures."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schemas.customers.models import CustomerChange, CustomerEvent
from schemas.ids import canonical_id
from schemas.inventory.models import MovementKind, StockMovementEvent
from schemas.payments.models import PaymentEvent, PaymentEventKind, TransactionStatus
from services.translator.errors import TranslationError
from tests.translate_support import RECEIVED_AT, avro_roundtrip, conformance, translate

pytestmark = pytest.mark.contract

D = Decimal


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_invoice_is_a_capture_in_base_and_order_currency() -> None:
    raw = conformance("magento2", "invoice_get.json")
    (event,) = translate("magento", "invoices", raw)
    assert isinstance(event, PaymentEvent)
    assert (event.kind, event.status) == (
        PaymentEventKind.CAPTURE,
        TransactionStatus.SUCCEEDED,
    )  # state 2 = paid
    assert (event.amount.amount, event.amount.currency) == (D("165"), "USD")
    assert event.presentment_amount is not None
    assert (event.presentment_amount.amount, event.presentment_amount.currency) == (D("165"), "USD")
    assert event.order_native_id == "3"
    assert event.order_id == canonical_id("magento", "acme", "order", "3")
    assert event.processor_reference == "000000003"
    assert event.processed_at == utc("2017-08-21T22:36:02")  # naive UTC in the source
    assert event.metadata.occurred_at == utc("2017-08-21T22:36:03")
    assert avro_roundtrip(event) == event


def test_invoice_source_reconciles_and_counts_items_once() -> None:
    """The event carries the grand total; the invoice it comes from reconciles in both currencies
    when bundle/configurable parents' prices are not counted twice (rows without row_total)."""
    source = json.loads(conformance("magento2", "invoice_get.json"))
    for prefix in ("", "base_"):
        rows = sum(
            D(str(item[f"{prefix}row_total"])) for item in source["items"] if f"{prefix}row_total" in item
        )
        assert rows == D(str(source[f"{prefix}subtotal"])) == D("160")
        total = (
            rows
            - abs(D(str(source[f"{prefix}discount_amount"])))
            + D(str(source[f"{prefix}shipping_amount"]))
            + D(str(source[f"{prefix}tax_amount"]))
        )
        assert total == D(str(source[f"{prefix}grand_total"]))
    assert len(source["items"]) == source["total_qty"] == 9


def test_source_items_are_absolute_counts_per_source() -> None:
    raw = conformance("magento2", "msi_source_items_request.json")
    source = json.loads(raw)["sourceItems"]
    events = translate("magento", "source-items", raw)
    assert len(events) == len(source) == 15
    counts = {(e.sku, e.location): e.quantity for e in events if isinstance(e, StockMovementEvent)}
    assert counts[("24-WB01", "magento:ne_wh")] == 35
    assert counts[("24-WB03", "magento:brooklyn")] == 0
    assert counts[("240-LV06", "magento:hq")] == 9999
    assert Counter(e.sku for e in events if isinstance(e, StockMovementEvent)) == {
        "24-WB01": 7,
        "24-WB03": 7,
        "240-LV06": 1,
    }
    assert all(isinstance(e, StockMovementEvent) and e.kind is MovementKind.ABSOLUTE_COUNT for e in events)
    assert {e.metadata.occurred_at for e in events} == {RECEIVED_AT}  # the request carries no time
    assert len({e.metadata.event_id for e in events}) == 15
    for event in events:
        assert avro_roundtrip(event) == event


def test_fractional_source_quantity_is_rejected() -> None:
    body = {"sourceItems": [{"sku": "X", "source_code": "default", "quantity": 1.5, "status": 1}]}
    with pytest.raises(TranslationError) as caught:
        translate("magento", "source-items", json.dumps(body).encode())
    assert caught.value.path == "$.sourceItems[0].quantity"


def test_customer_golden() -> None:
    (event,) = translate("magento", "customers", conformance("magento2", "customer_create_response.json"))
    assert isinstance(event, CustomerEvent)
    customer = event.customer
    assert (customer.native_id, customer.email, customer.first_name) == ("2", "jdoe@example.com", "Jane")
    assert customer.created_at == utc("2017-01-31T01:18:13")
    assert event.change is CustomerChange.CREATED
    (address,) = customer.addresses
    assert (address.street_lines, address.region_code, address.country_code) == (
        ["123 Oak Ave"],
        "US-NY",
        "US",
    )
    assert customer.default_address_index == 0
    assert avro_roundtrip(event) == event
