"""Golden files: Business Central API v2.0 -> CustomerEvent, OrderEvent, StockMovementEvent, rejections."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schemas.customers.models import CustomerEvent
from schemas.ids import canonical_id
from schemas.inventory.models import MovementKind, StockMovementEvent
from schemas.orders.models import FulfillmentStatus, OrderEvent
from services.translator.adapters.business_central import decode_caption
from services.translator.errors import TranslationError
from tests.backoffice_support import CONFORMANCE, assert_avro_round_trip, reconcile, translate, translate_raw

pytestmark = pytest.mark.contract


def test_customer() -> None:
    (event,) = translate("business-central", "customers", "business_central/customer_get.json")
    assert isinstance(event, CustomerEvent)
    customer = event.customer
    assert customer.customer_id == canonical_id(
        "business-central", "acme", "customer", "f2a5738a-44e3-ea11-bb43-000d3a2feca1"
    )
    assert (customer.company, customer.email, customer.phone) == (
        "Adatum Corporation", "robert.townes@contoso.com", None,
    )  # fmt: skip
    assert customer.state == "active"  # blocked " " is "not blocked"
    assert customer.updated_at == datetime(2020, 8, 21, 7, 38, 44, 293000, tzinfo=UTC)
    assert_avro_round_trip(event)


def test_header_only_sales_order_is_rejected_precisely() -> None:
    with pytest.raises(TranslationError) as error:
        translate("business-central", "sales-orders", "business_central/salesOrder_get.json")
    assert error.value.path == "$.salesOrderLines"
    assert error.value.reason is not None
    assert "not the whole order" in error.value.reason


def _expanded_order() -> bytes:
    """The ``$expand=salesOrderLines`` shape, built from the two doc samples (the line re-parented)."""
    order = json.loads((CONFORMANCE / "business_central/salesOrder_get.json").read_bytes())
    line = json.loads((CONFORMANCE / "business_central/salesOrderLine_get.json").read_bytes())
    line["documentId"] = order["id"]
    order["salesOrderLines"] = [line]
    return json.dumps(order).encode()


def test_expanded_sales_order_reconciles_in_gbp() -> None:
    (event,) = translate_raw("business-central", "sales-orders", _expanded_order())
    assert isinstance(event, OrderEvent)
    order = event.order
    assert order.shop_currency == "GBP"
    assert order.display_number == "101005"
    assert order.placed_at == datetime(2015, 12, 31, tzinfo=UTC)
    assert order.updated_at == datetime(2023, 9, 2, 17, 49, 38, 500000, tzinfo=UTC)
    assert len(order.lines) == 1
    line = order.lines[0]
    assert (line.sku, line.quantity, line.unit_of_measure, line.unit_price.amount) == (
        "1996-S", 12, "PCS", Decimal("1397.3"),
    )  # fmt: skip
    assert line.tax_lines[0].amount.amount == Decimal("1006.06")
    assert line.tax_lines[0].rate == Decimal("0.0600002")
    assert reconcile(order) == Decimal("17773.66")
    assert order.fulfillment_status is FulfillmentStatus.UNFULFILLED
    assert order.shipping_address is not None
    assert order.shipping_address.country_code == "GB"
    assert_avro_round_trip(event)


def test_line_of_another_order_is_rejected() -> None:
    order = json.loads(_expanded_order())
    order["salesOrderLines"][0]["documentId"] = "960f5c9c-44e3-ea11-bb43-000d3a2feca1"
    with pytest.raises(TranslationError) as error:
        translate_raw("business-central", "sales-orders", json.dumps(order).encode())
    assert error.value.path == "$.salesOrderLines[0].documentId"


def test_lone_sales_order_line_is_a_documented_rejection() -> None:
    with pytest.raises(TranslationError) as error:
        translate("business-central", "sales-order-lines", "business_central/salesOrderLine_get.json")
    assert "960f5c9c-44e3-ea11-bb43-000d3a2feca1" in error.value.found


def test_journal_line_cannot_be_a_balanced_entry() -> None:
    with pytest.raises(TranslationError) as error:
        translate("business-central", "journal-lines", "business_central/journalLine_get.json")
    assert error.value.expected == "a posted, balanced journal entry (debits = credits)"
    assert "journalLine 10000 of journal DEFAULT" in error.value.found


def test_item_ledger_entry_is_a_signed_adjustment() -> None:
    (event,) = translate(
        "business-central", "item-ledger-entries", "business_central/itemLedgerEntry_get.json"
    )
    assert isinstance(event, StockMovementEvent)
    assert (event.kind, event.sku, event.quantity) == (MovementKind.ADJUSTMENT, "1100", 200)
    assert event.reason == "Positive Adjmt."
    assert event.location == "bc-default"  # BusinessCentralSettings.default_location: the API has none
    assert event.unit_cost is not None
    assert event.unit_cost.amount == Decimal("129.671")
    assert event.metadata.occurred_at == datetime(2022, 6, 1, tzinfo=UTC)
    assert_avro_round_trip(event)


def test_positive_adjustment_with_negative_quantity_is_rejected() -> None:
    body = json.loads((CONFORMANCE / "business_central/itemLedgerEntry_get.json").read_bytes())
    body["quantity"] = -5
    with pytest.raises(TranslationError) as error:
        translate_raw("business-central", "item-ledger-entries", json.dumps(body).encode())
    assert error.value.path == "$.quantity"


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [("Positive_x0020_Adjmt_x002E_", "Positive Adjmt."), ("_x0020_", ""), ("Sale", "Sale")],
)
def test_decode_caption(raw: str, decoded: str) -> None:
    assert decode_caption(raw) == decoded
