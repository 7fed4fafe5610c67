"""Shopify order transactions (``order_transactions/create``, ``{"transaction": ...}``) -> PaymentEvent.

The transaction's ``amount``/``currency`` are in the currency the buyer paid (presentment). The
payment a transaction belongs to is Shopify's ``payment_id`` when sent, else its parent
transaction, else itself. Card data: only the brand and the last four digits of the masked number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from schemas.payments.models import (
    PaymentEvent,
    PaymentEventKind,
    PaymentFailure,
    PaymentMethod,
    TransactionStatus,
)
from services.translator.adapters._common import canonical, currency_or_header, document, money, route, unwrap
from services.translator.adapters.shopify._shared import SYSTEM
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode
from services.translator.metadata import event_metadata

__all__ = ["translate_transactions"]

KIND = {
    "authorization": PaymentEventKind.AUTHORIZATION,
    "capture": PaymentEventKind.CAPTURE,
    "sale": PaymentEventKind.CAPTURE,  # authorize and capture in one step
    "void": PaymentEventKind.VOID,
    "refund": PaymentEventKind.REFUND,
}
STATUS = {
    "success": TransactionStatus.SUCCEEDED,
    "pending": TransactionStatus.PENDING,
    "failure": TransactionStatus.FAILED,
    "error": TransactionStatus.FAILED,
}
_LAST4 = re.compile(r"(\d{4})\D*$")


@route
def translate_transactions(record: IngressRecord) -> Sequence[PaymentEvent]:
    return [_payment(record, node) for node in unwrap(document(record), "transaction", "transactions")]


def _payment(record: IngressRecord, node: JsonNode) -> PaymentEvent:
    native_id = node["id"].text()
    code = currency_or_header(node["currency"], record)
    status = STATUS.get(node["status"].opt_text() or "", TransactionStatus.UNKNOWN)
    processed_at = node["processed_at"].opt_timestamp() or node["created_at"].timestamp()
    payment_native = node["payment_id"].opt_text() or node["parent_id"].opt_text() or native_id
    order_native = node["order_id"].opt_text()
    metadata = event_metadata(
        record,
        event_type=f"payment.{KIND.get(node['kind'].opt_text() or '', PaymentEventKind.UNKNOWN).lower()}",
        entity="transaction",
        native_id=native_id,
        occurred_at=processed_at,
    )
    return PaymentEvent(
        metadata=metadata,
        kind=KIND.get(node["kind"].opt_text() or "", PaymentEventKind.UNKNOWN),
        status=status,
        payment_id=canonical(record, "payment", payment_native),
        transaction_id=canonical(record, "transaction", native_id),
        processor=node["gateway"].opt_text() or SYSTEM,
        processor_reference=native_id,
        parent_reference=node["parent_id"].opt_text(),
        order_id=canonical(record, "order", order_native) if order_native else None,
        order_native_id=order_native,
        amount=money(node["amount"], code),
        method=_method(node["payment_details"]),
        failure=(
            PaymentFailure(code=node["error_code"].opt_text(), message=node["message"].opt_text())
            if status is TransactionStatus.FAILED
            else None
        ),
        processed_at=processed_at,
    )


def _method(details: JsonNode) -> PaymentMethod | None:
    if details.is_absent:
        return None
    masked = details["credit_card_number"].opt_text()
    match = _LAST4.search(masked) if masked else None
    return PaymentMethod(
        type="card",
        brand=details["credit_card_company"].opt_text(),
        last4=match.group(1) if match else None,
        wallet=details["credit_card_wallet"].opt_text(),
    )
