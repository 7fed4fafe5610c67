"""The handler's bookkeeping: corrections by reversal, replays, cancellations, chargebacks, failed payouts,
closed periods, restocks, gift cards, refused events, and the trial balance served over HTTP."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from bus.errors import DeadLetterError
from bus.observability.health import Health, HealthServer
from bus.query import QueryRouter
from bus.testing import StaticState
from schemas.common.models import Money, TaxLine
from schemas.ledger import JournalEntryKind
from schemas.orders import FulfillmentStatus, Order, OrderChange, OrderEvent, OrderLine, OrderTotals
from schemas.payments import (
    DisputeDetails,
    DisputeStatus,
    PaymentEvent,
    PaymentEventKind,
    PaymentMethod,
    PayoutDetails,
    ProcessorFee,
    TransactionStatus,
)
from schemas.returns import RestockDecision, ReturnChange, ReturnEvent, ReturnLine
from services.ledger_poster.chart import load_chart
from services.ledger_poster.handler import STORE_LEDGER
from services.ledger_poster.queries import ledger_queries
from services.ledger_poster.settings import DEFAULT_CHART
from tests.unit.ledger_support import TOPICS, Driver, meta, table, usd

pytestmark = pytest.mark.unit

AT = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)
ORDER_ID = uuid.uuid5(uuid.NAMESPACE_URL, "order-1")


def order_event(price: str = "100.00", change: OrderChange = OrderChange.PLACED, **order: Any) -> OrderEvent:
    tax = (Decimal(price) * Decimal("0.08")).quantize(Decimal("0.01"))
    total = Decimal(price) + tax
    base: dict[str, Any] = {
        "order_id": ORDER_ID,
        "channel": "shopify",
        "account": "shop",
        "native_id": "1",
        "display_number": "#1",
        "placed_at": AT,
        "lines": [
            OrderLine(
                line_id="1",
                sku="SKU",
                title="Widget",
                quantity=1,
                unit_price=usd(price),
                tax_lines=[TaxLine(title="Sales tax", jurisdiction="US-NY", amount=usd(tax))],
            )
        ],
        "shop_currency": "USD",
        "totals": OrderTotals(
            subtotal=usd(price), discounts=usd("0"), shipping=usd("0"), tax=usd(tax), total=usd(total)
        ),
    }
    base.update(order)
    return OrderEvent(
        metadata=meta("order.updated", AT + timedelta(days=1), "shopify", "shop", "order", "1"),
        change=change,
        order=Order(**base),
    )


def payment(kind: PaymentEventKind, ref: str, amount: str, **extra: Any) -> PaymentEvent:
    fields: dict[str, Any] = {
        "metadata": meta("payment", AT, "stripe", "acct", "transaction", ref),
        "kind": kind,
        "payment_id": uuid.uuid5(ORDER_ID, "payment"),
        "transaction_id": uuid.uuid5(ORDER_ID, ref),
        "processor": "stripe",
        "processor_reference": ref,
        "order_id": ORDER_ID,
        "amount": usd(amount),
        "processed_at": AT,
    }
    fields.update(extra)
    return PaymentEvent(**fields)


def feed(driver: Driver, value: Any) -> None:
    if isinstance(value, OrderEvent):
        driver.feed(TOPICS.orders, str(value.order.order_id), value)
    elif isinstance(value, PaymentEvent):
        driver.feed(TOPICS.payments, str(value.payment_id), value)
    else:
        driver.feed(TOPICS.returns, str(value.return_id), value)


def test_an_edited_order_is_reversed_and_reposted_and_a_repeat_posts_nothing() -> None:
    driver = Driver()
    feed(driver, order_event("100.00"))
    feed(driver, order_event("100.00", OrderChange.UPDATED))  # same content, new event id
    assert len(driver.entries) == 1
    feed(driver, order_event("120.00", OrderChange.UPDATED))
    first, reversal, second = driver.entries
    assert reversal.kind is JournalEntryKind.REVERSAL
    assert reversal.reverses_entry_id == first.entry_id
    assert table([reversal]) == [
        ("1100", "", "108.00", "Order #1"),
        ("4000", "100.00", "", "Widget"),
        ("2200", "8.00", "", "US-NY"),
    ]
    assert table([second]) == [
        ("1100", "129.60", "", "Order #1"),
        ("4000", "", "120.00", "Widget"),
        ("2200", "", "9.60", "US-NY"),
    ]
    assert second.entry_id != first.entry_id


def test_a_cancelled_unpaid_order_is_reversed_once_a_refunded_one_is_left_to_its_refunds() -> None:
    driver = Driver()
    feed(driver, order_event())
    feed(driver, order_event(change=OrderChange.CANCELLED))
    feed(driver, order_event(change=OrderChange.CANCELLED))
    assert [e.kind for e in driver.entries] == [JournalEntryKind.POSTED, JournalEntryKind.REVERSAL]

    refunded = Driver()
    feed(refunded, order_event())
    totals = order_event().order.totals.model_copy(update={"refunded": usd("108.00")})
    feed(refunded, order_event(change=OrderChange.CANCELLED, totals=totals))
    assert [e.kind for e in refunded.entries] == [JournalEntryKind.POSTED]


def test_fulfilled_trigger_waits_for_fulfilment(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CHART.read_text())
    data["entities"]["US01"]["sale_trigger"] = "fulfilled"
    path = tmp_path / "chart.yaml"
    path.write_text(yaml.safe_dump(data))
    driver = Driver(load_chart(path))
    feed(driver, order_event(fulfillment_status=FulfillmentStatus.UNFULFILLED))
    assert driver.entries == []
    feed(driver, order_event(change=OrderChange.UPDATED, fulfillment_status=FulfillmentStatus.FULFILLED))
    (entry,) = driver.entries
    assert entry.posting_date == date(2024, 3, 6)  # the day it shipped, not the day it was placed


def test_closed_period_posts_to_the_next_open_one_with_the_original_date(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CHART.read_text())
    data["entities"]["US01"]["closed_through"] = "2024-03"
    path = tmp_path / "chart.yaml"
    path.write_text(yaml.safe_dump(data))
    driver = Driver(load_chart(path))
    feed(driver, order_event())
    (entry,) = driver.entries
    assert (entry.posting_date, entry.accounting_period, entry.original_date) == (
        date(2024, 4, 1),
        "2024-04",
        date(2024, 3, 5),
    )


def test_a_redelivered_payment_posts_nothing_twice() -> None:
    driver = Driver()
    fee = [ProcessorFee(type="processing", amount=usd("3.43"))]
    feed(driver, payment(PaymentEventKind.CAPTURE, "ch_1", "108.00", fees=fee))
    feed(driver, payment(PaymentEventKind.CAPTURE, "ch_1", "108.00", fees=fee))  # new event id, same charge
    assert table(driver.entries) == [
        ("1210", "108.00", "",       "stripe ch_1"),
        ("1100", "",       "108.00", "stripe ch_1"),
        ("6100", "3.43",   "",       "stripe processing fee"),
        ("1210", "",       "3.43",   "stripe processing fee"),
    ]  # fmt: skip
    feed(driver, payment(PaymentEventKind.PROCESSOR_FEE, "fee_1", "0.50"))
    assert table(driver.entries[1:]) == [
        ("6100", "0.50", "", "stripe fee_1"),
        ("1210", "", "0.50", "stripe fee_1"),
    ]


def test_chargeback_once_per_dispute_and_won_back() -> None:
    driver = Driver()
    fee = [ProcessorFee(type="chargeback", amount=usd("15.00"))]
    for i, status in enumerate((DisputeStatus.OPENED, DisputeStatus.NEEDS_RESPONSE)):
        dispute = DisputeDetails(dispute_reference="dp_1", status=status)
        feed(driver, payment(PaymentEventKind.DISPUTE, f"dp_1-{i}", "108.00", dispute=dispute, fees=fee))
    won = DisputeDetails(dispute_reference="dp_1", status=DisputeStatus.WON)
    feed(driver, payment(PaymentEventKind.DISPUTE, "dp_1-won", "108.00", dispute=won))
    assert table(driver.entries) == [
        ("6200", "108.00", "",       "stripe dp_1-0"),
        ("1210", "",       "108.00", "stripe dp_1-0"),
        ("6210", "15.00",  "",       "stripe chargeback fee"),
        ("1210", "",       "15.00",  "stripe chargeback fee"),
        ("1210", "108.00", "",       "stripe dp_1-won"),
        ("6200", "",       "108.00", "stripe dp_1-won"),
    ]  # fmt: skip
    orphan = Driver()
    other = DisputeDetails(dispute_reference="dp_2", status=DisputeStatus.WON)
    feed(orphan, payment(PaymentEventKind.DISPUTE, "dp_2-won", "10.00", dispute=other))
    assert orphan.entries == []


def test_a_failed_payout_is_reversed_and_its_money_is_back_in_clearing() -> None:
    driver = Driver()
    feed(driver, payment(PaymentEventKind.CAPTURE, "ch_1", "108.00"))
    details = PayoutDetails(payout_reference="po_1", status="paid")
    paid = payment(
        PaymentEventKind.PAYOUT,
        "po_1",
        "108.00",
        payment_id=uuid.uuid5(ORDER_ID, "po"),
        payout=details,
        order_id=None,
    )
    feed(driver, paid)
    feed(driver, paid.model_copy(update={"status": TransactionStatus.FAILED}))
    kinds = [e.kind for e in driver.entries]
    assert kinds == [JournalEntryKind.POSTED, JournalEntryKind.POSTED, JournalEntryKind.REVERSAL]
    assert table(driver.entries[2:]) == [
        ("1010", "", "108.00", "Payout po_1"),
        ("1210", "108.00", "", "Payout po_1"),
    ]
    (rec,) = driver.reconciliations
    assert rec.difference.amount == 0


def test_gift_card_capture_reduces_the_liability_not_clearing() -> None:
    driver = Driver()
    feed(driver, payment(PaymentEventKind.CAPTURE, "gc_1", "25.00", method=PaymentMethod(type="gift_card")))
    assert table(driver.entries) == [
        ("2400", "25.00", "", "stripe gc_1"),
        ("1100", "", "25.00", "stripe gc_1"),
    ]


def test_restock_with_known_cost_moves_cost_back_to_inventory() -> None:
    driver = Driver()
    event = ReturnEvent(
        metadata=meta("return.received", AT, "woocommerce", "site", "return", "r1"),
        change=ReturnChange.RECEIVED,
        return_id=uuid.uuid5(ORDER_ID, "return"),
        order_id=ORDER_ID,
        native_id="r1",
        order_native_id="1",
        lines=[
            ReturnLine(
                order_line_id="1",
                sku="SKU",
                quantity=2,
                restock=RestockDecision.RETURN_TO_STOCK,
                subtotal=usd("200"),
                tax=usd("0"),
                unit_cost=usd("41.25"),
            ),
            ReturnLine(
                order_line_id="2",
                sku="DMG",
                quantity=1,
                restock=RestockDecision.NO_RESTOCK,
                subtotal=usd("50"),
                tax=usd("0"),
                unit_cost=usd("20"),
            ),
        ],
        created_at=AT,
    )
    feed(driver, event)
    assert table(driver.entries) == [
        ("1300", "82.50", "", "Restock 2 x SKU"),
        ("5000", "", "82.50", "Restock 2 x SKU"),
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            order_event(totals=order_event().order.totals.model_copy(update={"total": usd("109.00")})),
            "differs from lines",
        ),
        (
            payment(PaymentEventKind.CAPTURE, "ch_eur", "10.00").model_copy(
                update={"amount": Money.of("10.00", "EUR")}
            ),
            "no EUR->USD rate",
        ),
        (order_event(channel="amazon"), None),
    ],
)
def test_events_that_cannot_be_booked_are_dead_lettered_with_the_reason(
    value: Any, reason: str | None
) -> None:
    chart = load_chart(DEFAULT_CHART)
    if reason is None:  # a chart whose routing covers only shopify
        chart = chart.model_copy(
            update={
                "routing": tuple(r for r in chart.routing if r.match.channel == "shopify")
                or (chart.routing[1],)
            }
        )
        reason = "no chart routing matches"
    driver = Driver(chart)
    with pytest.raises(DeadLetterError, match=reason):
        feed(driver, value)
    assert driver.entries == []


def test_trial_balance_over_http_adds_up_the_partitions() -> None:
    driver = Driver(partitions=3)
    feed(driver, order_event())
    feed(driver, payment(PaymentEventKind.CAPTURE, "ch_1", "108.00"))

    parts = [ctx.state(STORE_LEDGER).data for ctx in driver.partitions]
    router = QueryRouter(ledger_queries(driver.chart), StaticState({STORE_LEDGER: parts}))
    server = HealthServer("127.0.0.1", 0, Health(30), CollectorRegistry(), router)
    server.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/trial-balance/US01/2024-03") as response:
            report = json.load(response)
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/trial-balance/US01") as response:
            periods = json.load(response)
    finally:
        server.stop()
    balances = {row["account"]: row["balance"] for row in report["accounts"]}
    assert balances == {"1100": "0.0000", "1210": "108.0000", "2200": "-8.0000", "4000": "-100.0000"}
    assert report["balanced"] is True
    assert report["net"] == {"USD": "0.0000", "functional": "0.0000"}
    assert periods == {"entity": "US01", "periods": ["2024-03"]}
