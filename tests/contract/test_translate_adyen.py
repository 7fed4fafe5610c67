"""Golden files: Adyen notifications -> one PaymentEvent per NotificationRequestItem."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schemas.ids import canonical_id
from schemas.payments.models import PaymentEvent, PaymentEventKind, TransactionStatus
from tests.backoffice_support import CONFORMANCE, assert_avro_round_trip, translate, translate_raw

pytestmark = pytest.mark.contract

CASES = [
    ("notification_authorisation-true.json", PaymentEventKind.AUTHORIZATION, "101.00", "EUR",
     datetime(2017, 1, 19, 15, 42, 3, tzinfo=UTC), "123456789"),
    ("notification_capture-true.json", PaymentEventKind.CAPTURE, "236.23", "USD",
     datetime(2017, 1, 25, 17, 8, 19, tzinfo=UTC), "ORIGINAL_PSP"),
    ("notification_refund-true.json", PaymentEventKind.REFUND, "15.00", "EUR",
     datetime(2017, 2, 17, 10, 11, 44, tzinfo=UTC), "ORIGINAL_PSP"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kind", "amount", "currency", "at", "payment"), CASES)
def test_notification(
    name: str, kind: PaymentEventKind, amount: str, currency: str, at: datetime, payment: str
) -> None:
    (event,) = translate("adyen", "notifications", f"adyen/{name}")
    assert isinstance(event, PaymentEvent)
    assert event.kind is kind
    assert event.status is TransactionStatus.SUCCEEDED
    assert (event.amount.amount, event.amount.currency) == (Decimal(amount), currency)
    assert event.metadata.occurred_at == at
    assert event.payment_id == canonical_id("adyen", "acme", "payment", payment)
    assert_avro_round_trip(event)


def test_failed_authorisation_is_a_failure_with_the_reason() -> None:
    body = json.loads((CONFORMANCE / "adyen/notification_authorisation-true.json").read_bytes())
    body["notificationItems"][0]["NotificationRequestItem"]["success"] = "false"
    body["notificationItems"][0]["NotificationRequestItem"]["reason"] = "Refused"
    (event,) = translate_raw("adyen", "notifications", json.dumps(body).encode())
    assert isinstance(event, PaymentEvent)
    assert (event.kind, event.status) == (PaymentEventKind.FAILURE, TransactionStatus.FAILED)
    assert event.failure is not None
    assert event.failure.message == "Refused"


def test_failed_refund_keeps_its_kind() -> None:
    body = json.loads((CONFORMANCE / "adyen/notification_refund-true.json").read_bytes())
    body["notificationItems"][0]["NotificationRequestItem"]["success"] = "false"
    (event,) = translate_raw("adyen", "notifications", json.dumps(body).encode())
    assert isinstance(event, PaymentEvent)
    assert (event.kind, event.status) == (PaymentEventKind.REFUND, TransactionStatus.FAILED)


def test_capture_and_refund_of_one_payment_share_the_payment_id() -> None:
    (capture,) = translate("adyen", "notifications", "adyen/notification_capture-true.json")
    (refund,) = translate("adyen", "notifications", "adyen/notification_refund-true.json")
    assert isinstance(capture, PaymentEvent)
    assert isinstance(refund, PaymentEvent)
    assert capture.payment_id == refund.payment_id
    assert capture.transaction_id != refund.transaction_id
