"""Golden-file tests: Amazon SP-API conformance files -> canonical events (or documented rejections)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schemas.ids import canonical_id
from schemas.inventory.models import MovementKind, StockMovementEvent
from schemas.orders.models import FinancialStatus, FulfillmentStatus, OrderEvent
from services.translator.errors import TranslationError
from tests.translate_support import avro_roundtrip, conformance, lines_gross, reconciled_total, translate

pytestmark = pytest.mark.contract

D = Decimal


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _orders() -> list[dict[str, object]]:
    return json.loads(conformance("amazon_sp", "getOrders_sandbox_200.json"))["payload"]["Orders"]  # type: ignore[no-any-return]


def _items() -> dict[str, object]:
    return json.loads(conformance("amazon_sp", "getOrderItems_sandbox_200.json"))  # type: ignore[no-any-return]


def _check_joined(event: OrderEvent) -> None:
    order = event.order
    assert order.native_id == order.display_number == "902-1845936-5435065"
    assert order.order_id == canonical_id("amazon", "acme", "order", "902-1845936-5435065")
    assert order.placed_at == utc("1970-01-19T03:58:30")
    assert order.updated_at == utc("1970-01-19T03:58:32")
    assert order.shop_currency == "USD"
    assert (order.financial_status, order.fulfillment_status) == (
        FinancialStatus.PAID,
        FulfillmentStatus.UNFULFILLED,
    )
    assert [(ln.sku, ln.product_id, ln.quantity, ln.unit_price.amount) for ln in order.lines] == [
        ("NABetaASINB00551Q3CS", "B00551Q3CS", 1, D("10.00"))
    ]
    totals = order.totals
    assert (totals.subtotal.amount, totals.tax.amount, totals.total.amount) == (
        D("10.00"),
        D("1.01"),
        D("11.01"),
    )
    assert order.taxes_included is False  # US marketplace: OrderTotal = ItemPrice + ItemTax
    assert reconciled_total(lines_gross(order), totals, order.taxes_included) == totals.total.amount
    source = _orders()[0]
    units = int(source["NumberOfItemsShipped"]) + int(source["NumberOfItemsUnshipped"])  # type: ignore[call-overload]
    assert sum(ln.quantity for ln in order.lines) == units
    assert order.lines[0].properties["BuyerRequestedCancel"] == "true"
    assert order.attributes["MarketplaceId"] == "ATVPDKIKX0DER"
    assert avro_roundtrip(event) == event


def test_order_joined_with_its_items_document() -> None:
    raw = json.dumps({"order": _orders()[0], "items": _items()}).encode()
    (event,) = translate("amazon", "orders", raw)
    assert isinstance(event, OrderEvent)
    _check_joined(event)


def test_get_orders_with_items_embedded() -> None:
    response = json.loads(conformance("amazon_sp", "getOrders_sandbox_200.json"))
    response["payload"]["Orders"] = [{**_orders()[0], "OrderItems": _items()["payload"]["OrderItems"]}]  # type: ignore[index]
    (event,) = translate("amazon", "orders", json.dumps(response).encode())
    assert isinstance(event, OrderEvent)
    _check_joined(event)


def test_get_orders_without_items_is_rejected_at_the_items_path() -> None:
    """Headers alone have no lines or tax split: the second sample order has no items sample."""
    with pytest.raises(TranslationError) as caught:
        translate("amazon", "orders", conformance("amazon_sp", "getOrders_sandbox_200.json"))
    assert caught.value.path == "$.payload.Orders[0].OrderItems"
    assert caught.value.reason


def test_items_of_another_order_are_rejected() -> None:
    raw = json.dumps({"order": _orders()[1], "items": _items()}).encode()
    with pytest.raises(TranslationError) as caught:
        translate("amazon", "orders", raw)
    assert caught.value.path == "$.items.payload.AmazonOrderId"
    assert caught.value.expected == "902-8745147-1934268"


def test_fba_inventory_payload_golden() -> None:
    raw = conformance("amazon_sp", "notification_FBA_INVENTORY_AVAILABILITY_CHANGES_payload.json")
    events = translate("amazon", "notifications", raw)
    counts = [(e.sku, e.location, e.kind, e.quantity) for e in events if isinstance(e, StockMovementEvent)]
    # On hand in the fulfillment network: fulfillable (50 / 40) + reserved for orders in process (30).
    assert counts == [
        ("SELLERSKU-1", "amazon:fba:ATVPDKIKX0DER", MovementKind.ABSOLUTE_COUNT, 80),
        ("SELLERSKU-1", "amazon:fba:A2EUQ1WTGCTBG2", MovementKind.ABSOLUTE_COUNT, 70),
    ]
    assert len({e.metadata.event_id for e in events}) == 2
    for event in events:
        assert avro_roundtrip(event) == event


def test_fba_inventory_in_its_envelope_takes_the_event_time() -> None:
    payload = json.loads(
        conformance("amazon_sp", "notification_FBA_INVENTORY_AVAILABILITY_CHANGES_payload.json")
    )
    envelope = {
        "NotificationVersion": "1.0",
        "NotificationType": "FBA_INVENTORY_AVAILABILITY_CHANGES",
        "PayloadVersion": "1.0",
        "EventTime": "2020-07-13T19:42:04.284Z",
        "Payload": payload,
    }
    events = translate("amazon", "notifications", json.dumps(envelope).encode())
    occurred = [e.metadata.occurred_at for e in events if isinstance(e, StockMovementEvent)]
    assert occurred == [utc("2020-07-13T19:42:04.284")] * 2


def test_order_change_is_a_documented_rejection() -> None:
    with pytest.raises(TranslationError) as caught:
        translate("amazon", "notifications", conformance("amazon_sp", "notification_ORDER_CHANGE.json"))
    assert caught.value.path == "$.Payload"
    assert "re-fetch" in (caught.value.reason or "")
