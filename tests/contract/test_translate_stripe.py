"""Golden files: Stripe conformance events -> PaymentEvent (minor units, unix seconds, ids)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schemas.ids import canonical_id
from schemas.payments.models import PaymentEvent, PaymentEventKind, TransactionStatus
from tests.backoffice_support import assert_avro_round_trip, translate

pytestmark = pytest.mark.contract


def _one(entity: str, name: str) -> PaymentEvent:
    events = translate("stripe", entity, f"stripe/{name}")
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, PaymentEvent)
    assert_avro_round_trip(event)
    return event


def test_charge_succeeded_is_a_capture_of_20_usd() -> None:
    event = _one("events", "event_charge.succeeded.json")
    assert event.kind is PaymentEventKind.CAPTURE
    assert event.status is TransactionStatus.SUCCEEDED
    assert (event.amount.amount, event.amount.currency) == (Decimal("20.00"), "USD")
    assert event.payment_id == canonical_id("stripe", "acme", "charge", "ch_000000000000000000000000")
    assert event.processed_at == datetime(2022, 3, 26, 18, 40, 32, tzinfo=UTC)
    assert event.parent_reference == "pi_000000000000000000000000"
    assert event.method is not None
    assert (event.method.brand, event.method.last4) == ("visa", "4242")


def test_payment_intent_succeeded_maps_to_the_same_capture_transaction() -> None:
    charge = _one("events", "event_charge.succeeded.json")
    intent = _one("events", "event_payment_intent.succeeded.json")
    # Two notifications of one money movement: one transaction id, so the ledger posts it once.
    assert intent.transaction_id == charge.transaction_id
    assert intent.metadata.event_id != charge.metadata.event_id
    assert intent.amount == charge.amount


def test_charge_refunded_yields_one_refund_per_refund_object() -> None:
    event = _one("events", "event_charge.refunded.json")
    assert event.kind is PaymentEventKind.REFUND
    assert (event.amount.amount, event.amount.currency) == (Decimal("1.00"), "USD")
    assert event.processor_reference == "re_000000000000000000000000"
    assert event.parent_reference == "ch_000000000000000000000000"
    assert event.payment_id == canonical_id("stripe", "acme", "charge", "ch_000000000000000000000000")
    assert event.metadata.occurred_at == datetime(2022, 3, 26, 18, 39, 9, tzinfo=UTC)


def test_payout_paid() -> None:
    event = _one("events", "event_payout.paid.json")
    assert event.kind is PaymentEventKind.PAYOUT
    assert event.payout is not None
    assert event.payout.arrival_date == datetime(2022, 3, 28, 0, 0, tzinfo=UTC)
    assert event.payout.status == "paid"
    assert event.amount.amount == Decimal("11.00")
    assert event.payment_id == canonical_id("stripe", "acme", "payout", "po_000000000000000000000000")


def test_balance_transaction_is_the_fee_and_net_of_its_charge() -> None:
    event = _one("balance-transactions", "openapi_fixture_balance_transaction.json")
    assert event.kind is PaymentEventKind.PROCESSOR_FEE
    assert event.amount.amount == Decimal("0")
    assert event.net is not None
    assert event.net.amount == Decimal("1.00")
    assert event.parent_reference == "ch_1PgafuB7WZ01zgkWXYmPNZs8"
    assert event.processed_at == datetime(2009, 2, 13, 23, 31, 30, tzinfo=UTC)


def test_translation_is_deterministic() -> None:
    first = translate("stripe", "events", "stripe/event_charge.refunded.json")
    second = translate("stripe", "events", "stripe/event_charge.refunded.json")
    assert first == second
