"""Golden-file tests: every WooCommerce conformance file -> canonical events with the source's figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schemas.customers.models import CustomerChange, CustomerEvent
from schemas.ids import canonical_id
from schemas.inventory.models import MovementKind, StockMovementEvent
from schemas.orders.models import FinancialStatus, FulfillmentStatus, OrderEvent
from schemas.returns.models import ReturnEvent
from services.translator.errors import TranslationError
from tests.translate_support import avro_roundtrip, conformance, lines_gross, reconciled_total, translate

pytestmark = pytest.mark.contract

D = Decimal


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_orders_list_golden() -> None:
    raw = conformance("woocommerce", "v3_orders_list.json")
    source = json.loads(raw)
    events = translate("woocommerce", "orders", raw)
    assert len(events) == len(source) == 2
    expected = {
        "727": ("2017-03-22T19:28:02", D("29.35"), D("10.00"), D("1.35"), FinancialStatus.PAID,
                FulfillmentStatus.UNFULFILLED, [None, "Bar3"], None),
        "723": ("2017-03-21T19:16:00", D("39.00"), D("10.00"), D("0.00"), FinancialStatus.PAID,
                FulfillmentStatus.FULFILLED, [None, None], D("19.00")),
    }  # fmt: skip
    for event, src in zip(events, source, strict=True):
        assert isinstance(event, OrderEvent)
        order = event.order
        placed, total, shipping, tax, financial, fulfillment, skus, refunded = expected[
            order.display_number or ""
        ]
        assert order.order_id == canonical_id("woocommerce", "acme", "order", str(src["id"]))
        # date_created_gmt, not the site-local date_created (three hours apart in these samples).
        assert order.placed_at == utc(placed)
        assert (order.shop_currency, order.presentment_currency) == ("USD", "USD")
        assert (order.totals.total.amount, order.totals.shipping.amount, order.totals.tax.amount) == (
            total,
            shipping,
            tax,
        )
        assert (order.financial_status, order.fulfillment_status) == (financial, fulfillment)
        assert len(order.lines) == len(src["line_items"]) + len(src["fee_lines"])
        assert [line.sku for line in order.lines] == skus
        assert (order.totals.refunded.amount if order.totals.refunded else None) == refunded
        # lines (subtotal, before discounts, ex tax) - discounts + shipping + tax = total
        source_lines = sum(D(line["subtotal"]) for line in src["line_items"])
        assert lines_gross(order) == source_lines
        assert reconciled_total(lines_gross(order), order.totals, order.taxes_included) == total
        assert avro_roundtrip(event) == event


def test_order_line_quirks() -> None:
    (first, _) = translate("woocommerce", "orders", conformance("woocommerce", "v3_orders_list.json"))
    assert isinstance(first, OrderEvent)
    single, variation = first.order.lines
    # price is a JSON number; the unit price comes from the exact subtotal string.
    assert (single.quantity, single.unit_price.amount) == (2, D("3.00"))
    assert variation.title == "Ship Your Idea \u2013 Color: Black, Size: M Test"  # &ndash; decoded
    assert variation.variant_id == "23"
    assert variation.properties == {"pa_color": "black", "size": "M Test"}
    assert [t.amount.amount for t in variation.tax_lines] == [D("0.9")]  # "0.9", not 2 decimals
    assert variation.tax_lines[0].title == "State Tax"
    assert first.order.attributes["prices_include_tax"] == "false"


def test_refunds_golden() -> None:
    raw = conformance("woocommerce", "v3_order_refunds_list.json")
    events = translate("woocommerce", "refunds", raw, shop_currency="USD")
    assert len(events) == 2
    by_id = {e.native_id: e for e in events if isinstance(e, ReturnEvent)}
    shipping_refund, item_refund = by_id["726"], by_id["724"]
    for event in (shipping_refund, item_refund):
        assert event.order_native_id == "723"  # from _links.up
        assert event.order_id == canonical_id("woocommerce", "acme", "order", "723")
        assert event.refund_total is not None
        # What a refund reconciles: its lines (positive) plus unallocated adjustments = amount.
        explained = sum(ln.subtotal.amount + ln.tax.amount for ln in event.lines) + sum(
            a.amount.amount for a in event.adjustments
        )
        assert explained == event.refund_total.amount
        assert avro_roundtrip(event) == event
    assert item_refund.created_at == utc("2017-03-21T19:55:37")
    assert [(ln.order_line_id, ln.quantity, ln.subtotal.amount) for ln in item_refund.lines] == [
        ("311", 1, D("9.00"))
    ]
    assert shipping_refund.lines == []
    assert [a.amount.amount for a in shipping_refund.adjustments] == [D("10.00")]
    # The order's refunds[] summary (negative totals) matches the refund objects (positive amounts).
    order_723 = json.loads(conformance("woocommerce", "v3_orders_list.json"))[1]
    assert {str(r["id"]): -D(r["total"]) for r in order_723["refunds"]} == {
        k: v.refund_total.amount for k, v in by_id.items() if v.refund_total
    }


def test_refund_without_currency_header_names_the_field() -> None:
    with pytest.raises(TranslationError) as caught:
        translate("woocommerce", "refunds", conformance("woocommerce", "v3_order_refunds_list.json"))
    assert caught.value.path == "$[0].currency"


def test_customer_golden() -> None:
    (event,) = translate("woocommerce", "customers", conformance("woocommerce", "v3_customer_create.json"))
    assert isinstance(event, CustomerEvent)
    assert event.customer.native_id == "25"
    assert event.customer.email == "john.doe@example.com"
    assert event.customer.created_at == utc("2017-03-21T19:09:28")
    assert event.change is CustomerChange.UPDATED  # modified two seconds after creation
    assert [a.region_code for a in event.customer.addresses] == ["US-CA", "US-CA"]
    assert avro_roundtrip(event) == event


def test_product_without_managed_stock_yields_no_level() -> None:
    assert translate("woocommerce", "products", conformance("woocommerce", "v3_product_create.json")) == []


def test_product_with_managed_stock_yields_its_count() -> None:
    product = json.loads(conformance("woocommerce", "v3_product_create.json"))
    product.update(manage_stock=True, stock_quantity=7)
    (event,) = translate("woocommerce", "products", json.dumps(product).encode())
    assert isinstance(event, StockMovementEvent)
    assert event.kind is MovementKind.ABSOLUTE_COUNT
    # sku "" in the sample: the stock position is keyed by the product id instead.
    assert (event.sku, event.location, event.quantity) == ("woocommerce:product:794", "woocommerce:acme", 7)
    assert event.metadata.occurred_at == utc("2017-03-23T20:01:14")
    assert avro_roundtrip(event) == event
