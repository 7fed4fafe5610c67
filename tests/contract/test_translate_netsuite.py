"""Golden files: NetSuite SOAP get responses -> CustomerEvent, OrderEvent (invoice), stock counts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schemas.customers.models import CustomerEvent
from schemas.ids import canonical_id
from schemas.inventory.models import MovementKind, StockMovementEvent
from schemas.orders.models import FinancialStatus, OrderEvent
from services.translator.adapters.netsuite import NetSuiteSettings, routes
from services.translator.errors import TranslationError
from tests.backoffice_support import CONFORMANCE, assert_avro_round_trip, reconcile, record_of, translate

pytestmark = pytest.mark.contract


def test_customer() -> None:
    (event,) = translate("netsuite", "customers", "netsuite/soap_get_customer.xml")
    assert isinstance(event, CustomerEvent)
    customer = event.customer
    assert customer.customer_id == canonical_id("netsuite", "acme", "customer", "988")
    assert customer.company == "Test Inc."
    assert customer.created_at == datetime(2011, 12, 15, 19, 56, 19, tzinfo=UTC)  # -08:00 offset
    assert len(customer.addresses) == 1
    address = customer.addresses[0]
    assert (address.city, address.region_code, address.postal_code, address.country_code) == (
        "Chicago", "IL", "60616", "US",
    )  # fmt: skip
    assert customer.default_address_index == 0
    assert customer.tax_exempt is True
    assert_avro_round_trip(event)


def test_invoice_is_an_order_whose_totals_reconcile() -> None:
    (event,) = translate("netsuite", "invoices", "netsuite/soap_get_invoice.xml")
    assert isinstance(event, OrderEvent)
    order = event.order
    assert order.order_id == canonical_id("netsuite", "acme", "invoice", "439")
    assert order.display_number == "2187"
    assert order.placed_at == datetime(2011, 1, 1, 8, 0, tzinfo=UTC)
    assert order.shop_currency == "USD"  # NetSuiteSettings.default_currency: the SOAP record has none
    assert len(order.lines) == 1
    assert (order.lines[0].quantity, order.lines[0].unit_price.amount) == (1, Decimal("15993.6"))
    assert reconcile(order) == Decimal("15993.60")
    assert order.totals.outstanding is not None
    assert order.totals.outstanding.amount == Decimal("15993.6")
    assert order.financial_status is FinancialStatus.PENDING
    assert order.billing_address is not None
    assert order.billing_address.country_code == "US"
    assert_avro_round_trip(event)


def test_invoice_currency_comes_from_the_configured_default() -> None:
    raw = (CONFORMANCE / "netsuite/soap_get_invoice.xml").read_bytes()
    translate_invoice = routes(NetSuiteSettings(default_currency="CAD"))[("netsuite", "invoices")]
    (event,) = translate_invoice(record_of("netsuite", "invoices", raw))
    assert isinstance(event, OrderEvent)
    assert event.order.totals.total.currency == "CAD"


def test_unmapped_currency_reference_is_rejected_with_its_path() -> None:
    raw = (CONFORMANCE / "netsuite/soap_get_invoice.xml").read_bytes()
    raw = raw.replace(
        b"<tranSales:source>",
        b'<tranSales:currency internalId="7"><platformCore:name>Euro</platformCore:name></tranSales:currency>'
        b"<tranSales:source>",
    )
    raw = raw.replace(b"<tranSales:currency ", b'<tranSales:currency xmlns:platformCore="urn:core" ', 1)
    translate_invoice = routes(NetSuiteSettings())[("netsuite", "invoices")]
    with pytest.raises(TranslationError) as error:
        translate_invoice(record_of("netsuite", "invoices", raw))
    assert error.value.path.endswith("/record/currency/@internalId")
    assert error.value.found == "'7'"


def test_item_availability_is_an_absolute_count_per_location() -> None:
    events = translate("netsuite", "item-availability", "netsuite/soap_get_item_availability.xml")
    assert len(events) == 2
    counts = {(e.sku, e.location): e for e in events if isinstance(e, StockMovementEvent)}
    east, west = counts[("CD-R", "netsuite-1")], counts[("CD-R", "netsuite-2")]
    assert (east.kind, east.quantity) == (MovementKind.ABSOLUTE_COUNT, 264)
    assert west.quantity == -1  # NetSuite allows negative on hand; the count says so
    assert east.metadata.occurred_at == datetime(2022, 5, 5, 10, 40, 6, tzinfo=UTC)
    for event in events:
        assert_avro_round_trip(event)
