"""Golden journal entries for the conformance payloads, as an accountant would write them.

Each payload goes through its translator adapter (as on the bus: ingress -> canonical) and then the
poster. Expected entries are tables of (account, debit, credit, memo) in the transaction currency.

Default chart: 1010 Bank USD · 1100 Accounts receivable · 1200 Clearing, other processors · 1210 Stripe
clearing · 1220 Adyen clearing · 2200 Sales tax payable · 4000 Product revenue · 4500 Sales returns and
allowances. Shopify and Stripe book in US01 (USD, New York days), Adyen in EU01 (EUR, Amsterdam days).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bus.errors import DeadLetterError
from schemas.ledger import JournalEntryKind, ReconciliationStatus
from schemas.orders import OrderEvent
from schemas.payments import PaymentEvent, PaymentEventKind
from schemas.returns import ReturnEvent
from tests.unit.ledger_support import TOPICS, Driver, functional_table, fx_rate, table, translate

pytestmark = pytest.mark.unit


def post(driver: Driver, system: str, entity: str, path: str, account: str = "acme") -> list[Any]:
    events = translate(system, entity, path, account, shop_currency="USD")
    for event in events:
        if isinstance(event, OrderEvent):
            driver.feed(TOPICS.orders, str(event.order.order_id), event)
        elif isinstance(event, PaymentEvent):
            driver.feed(TOPICS.payments, str(event.payment_id), event)
        elif isinstance(event, ReturnEvent):
            driver.feed(TOPICS.returns, str(event.return_id), event)
    return events


# -- Shopify ------------------------------------------------------------------------------------------
def test_shopify_order_1001_sale() -> None:
    driver = Driver()
    post(driver, "shopify", "orders", "shopify/api_2024-04_order_get_full.json")

    assert table(driver.entries) == [
        # account  debit     credit    memo
        ("1100", "598.94", "",       "Order #1001"),       # total_price
        ("4000", "",       "195.66", "IPod Nano - 8gb"),   # green 199.00 - 3.34 of TENOFF
        ("4000", "",       "195.67", "IPod Nano - 8gb"),   # red   199.00 - 3.33
        ("4000", "",       "195.67", "IPod Nano - 8gb"),   # black 199.00 - 3.33
        ("2200", "",       "11.94",  "State Tax"),         # 3 x 3.98; free shipping posts no line
    ]  # fmt: skip
    (entry,) = driver.entries
    assert entry.legal_entity == "US01"
    assert entry.posting_date == date(2008, 1, 10)  # 11:00 -05:00: the 10th in New York
    assert (entry.accounting_period, entry.kind) == ("2008-01", JournalEntryKind.POSTED)
    assert {line.dimensions["sku"] for line in entry.lines if line.account == "4000"} == {
        "IPOD2008GREEN",
        "IPOD2008RED",
        "IPOD2008BLACK",
    }


def test_shopify_order_whose_figures_do_not_add_up_is_refused() -> None:
    # python_api_order.json: three lines of 199.00 but subtotal 398.00 and total 409.94.
    with pytest.raises(DeadLetterError, match=r"total 409.9400 USD differs .* by -187.06"):
        post(Driver(), "shopify", "orders", "shopify/python_api_order.json")


def test_shopify_refund_credit_memo_and_cash() -> None:
    driver = Driver()
    post(driver, "shopify", "refunds", "shopify/python_api_refund.json")

    assert table(driver.entries) == [
        # credit memo: goods and tax off the customer's invoice
        ("4500", "199.00", "",       "Return 1 x IPOD2008BLACK"),
        ("2200", "3.98",   "",       "Tax refunded"),
        ("4500", "199.00", "",       "Return 1 x IPOD2008GREEN"),
        ("2200", "3.98",   "",       "Tax refunded"),
        ("1100", "",       "405.96", "Credit memo"),
        # cash paid back through the gateway ("bogus": the default clearing account)
        ("1100", "209.00", "",       "Refund bogus 179259969"),
        ("1200", "",       "209.00", "Refund bogus 179259969"),
    ]  # fmt: skip
    # The sample pays back 209.00 of a 405.96 credit: 196.96 stays owed to the customer in AR.


def test_shopify_refund_without_line_amounts_is_an_allowance() -> None:
    driver = Driver()
    post(driver, "shopify", "refunds", "shopify/api_2024-04_refund_create_a.json")

    assert table(driver.entries) == [
        ("4500", "41.94", "",      "Refund not attributed to lines"),  # the line's subtotal and tax are 0.00
        ("1100", "",      "41.94", "Credit memo"),
        ("1100", "41.94", "",      "Refund bogus 1068278483"),
        ("1200", "",      "41.94", "Refund bogus 1068278483"),
    ]  # fmt: skip


def test_shopify_authorization_posts_nothing() -> None:
    driver = Driver()
    (event,) = post(driver, "shopify", "order-transactions", "shopify/python_api_transaction.json")
    assert event.kind is PaymentEventKind.AUTHORIZATION
    assert driver.entries == []


# -- Stripe -------------------------------------------------------------------------------------------
def test_stripe_charge_refund_payout_and_reconciliation() -> None:
    driver = Driver()
    post(driver, "stripe", "events", "stripe/event_charge.succeeded.json")  # 2000 usd
    post(driver, "stripe", "events", "stripe/event_payment_intent.succeeded.json")  # the same capture again
    post(driver, "stripe", "events", "stripe/event_charge.refunded.json")  # refund 100
    post(driver, "stripe", "events", "stripe/event_payout.paid.json")  # payout 1100

    assert table(driver.entries) == [
        ("1210", "20.00", "",      "stripe ch_000000000000000000000000"),
        ("1100", "",      "20.00", "stripe ch_000000000000000000000000"),
        ("1100", "1.00",  "",      "stripe re_000000000000000000000000"),
        ("1210", "",      "1.00",  "stripe re_000000000000000000000000"),
        ("1010", "11.00", "",      "Payout po_000000000000000000000000"),
        ("1210", "",      "11.00", "Payout po_000000000000000000000000"),
    ]  # fmt: skip
    (rec,) = driver.reconciliations
    # payout 11.00 against captures 20.00 - refunds 1.00 - fees 0.00 up to 2022-03-26: 8.00 short
    assert [rec.captures.amount, rec.refunds.amount, rec.fees.amount, rec.expected.amount] == [
        Decimal("20.00"),
        Decimal("1.00"),
        Decimal("0.00"),
        Decimal("19.00"),
    ]
    assert (rec.payout_amount.amount, rec.difference.amount) == (Decimal("11.00"), Decimal("-8.00"))
    assert rec.status is ReconciliationStatus.DIFFERENCE
    assert (rec.window_end, rec.processor) == (date(2022, 3, 26), "stripe")


def test_stripe_balance_transaction_with_zero_fee_posts_nothing() -> None:
    driver = Driver()
    (event,) = post(
        driver, "stripe", "balance-transactions", "stripe/openapi_fixture_balance_transaction.json"
    )
    assert (event.kind, event.amount.amount) == (PaymentEventKind.PROCESSOR_FEE, Decimal("0"))
    assert driver.entries == []


# -- Adyen --------------------------------------------------------------------------------------------
def test_adyen_capture_in_usd_books_in_eur_and_refund() -> None:
    driver = Driver()
    # A test rate on the rates topic, ECB style (1 EUR = 1.0737 USD), for the capture's day.
    driver.feed(TOPICS.rates, "EUR/USD", fx_rate("EUR", "USD", "1.0737", date(2017, 1, 25)))
    post(driver, "adyen", "notifications", "adyen/notification_authorisation-true.json")  # EUR 101.00
    post(driver, "adyen", "notifications", "adyen/notification_capture-true.json")  # USD 236.23
    post(driver, "adyen", "notifications", "adyen/notification_refund-true.json")  # EUR 15.00

    assert table(driver.entries) == [
        ("1220", "236.23", "",       "adyen PSP_REFERENCE"),
        ("1100", "",       "236.23", "adyen PSP_REFERENCE"),
        ("1100", "15.00",  "",       "adyen PSP_REFERENCE"),
        ("1220", "",       "15.00",  "adyen PSP_REFERENCE"),
    ]  # fmt: skip
    # EU01's functional EUR: 236.23 x (1 / 1.0737 = 0.9313588526) = 220.0118... -> 220.01, half-up.
    assert functional_table(driver.entries) == [
        ("1220", "220.01", ""),
        ("1100", "",       "220.01"),
        ("1100", "15.00",  ""),
        ("1220", "",       "15.00"),
    ]  # fmt: skip
    capture, refund = driver.entries
    assert (capture.legal_entity, capture.posting_date) == ("EU01", date(2017, 1, 25))
    assert capture.lines[0].exchange_rate == Decimal("0.9313588526")
    assert (refund.posting_date, refund.lines[0].exchange_rate) == (date(2017, 2, 17), None)
