"""Adyen standard notifications -> one ``PaymentEvent`` per ``NotificationRequestItem``.

``amount.value`` is minor units, ``eventDate`` carries an offset, ``success`` is the string
"true"/"false". A failed AUTHORISATION is a FAILURE; a failed modification (capture, refund,
cancellation) keeps its kind with status FAILED. ``payment_id`` comes from ``originalReference``
(modifications) or ``pspReference`` (the authorisation itself), so every event of one payment shares it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from schemas.base import AvroRecord
from schemas.payments.models import (
    DisputeDetails,
    DisputeStatus,
    PaymentEvent,
    PaymentEventKind,
    PaymentFailure,
    PaymentMethod,
    TransactionStatus,
)
from services.translator.convert import build, canonical, currency_code, guarded, money_minor
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode, parse_json
from services.translator.metadata import event_metadata
from services.translator.registry import Translate

__all__ = ["EVENT_CODES", "ROUTES", "translate_notification"]


class _Code(NamedTuple):
    kind: PaymentEventKind
    dispute: DisputeStatus | None = None


EVENT_CODES: Mapping[str, _Code] = {
    "AUTHORISATION": _Code(PaymentEventKind.AUTHORIZATION),
    "CAPTURE": _Code(PaymentEventKind.CAPTURE),
    "CAPTURE_FAILED": _Code(PaymentEventKind.CAPTURE),
    "CANCELLATION": _Code(PaymentEventKind.VOID),
    "TECHNICAL_CANCEL": _Code(PaymentEventKind.VOID),
    "REFUND": _Code(PaymentEventKind.REFUND),
    "REFUND_FAILED": _Code(PaymentEventKind.REFUND),
    "REFUNDED_REVERSED": _Code(PaymentEventKind.REFUND),
    "REFUND_WITH_DATA": _Code(PaymentEventKind.REFUND),
    "REQUEST_FOR_INFORMATION": _Code(PaymentEventKind.DISPUTE, DisputeStatus.NEEDS_RESPONSE),
    "NOTIFICATION_OF_CHARGEBACK": _Code(PaymentEventKind.DISPUTE, DisputeStatus.OPENED),
    "CHARGEBACK": _Code(PaymentEventKind.DISPUTE, DisputeStatus.LOST),
    "SECOND_CHARGEBACK": _Code(PaymentEventKind.DISPUTE, DisputeStatus.LOST),
    "PREARBITRATION_LOST": _Code(PaymentEventKind.DISPUTE, DisputeStatus.LOST),
    "CHARGEBACK_REVERSED": _Code(PaymentEventKind.DISPUTE, DisputeStatus.WON),
    "PREARBITRATION_WON": _Code(PaymentEventKind.DISPUTE, DisputeStatus.WON),
}
"""Adyen ``eventCode`` -> canonical kind. Codes that move no money (REPORT_AVAILABLE,
RECURRING_CONTRACT...) are not payment events and are rejected with the list of supported codes."""

# Codes whose names already say they failed, whatever ``success`` says.
_FAILED_CODES = frozenset({"CAPTURE_FAILED", "REFUND_FAILED", "REFUNDED_REVERSED"})
_CARD_BRANDS = frozenset(
    {"visa", "mc", "amex", "discover", "diners", "jcb", "maestro", "cup", "cartebancaire", "bcmc"}
)


def _method(item: JsonNode) -> PaymentMethod | None:
    raw = item["paymentMethod"].opt_text()
    if raw is None:
        return None
    summary = item.path_get("additionalData", "cardSummary").opt_text()
    brand = raw.split("_", 1)[0]  # "visa_applepay" -> visa + wallet
    wallet = raw.split("_", 1)[1] if "_" in raw and brand in _CARD_BRANDS else None
    if brand in _CARD_BRANDS:
        return PaymentMethod(type="card", brand=brand, last4=summary, wallet=wallet)
    return PaymentMethod(type=raw)


def _item_event(record: IngressRecord, item: JsonNode) -> PaymentEvent:
    code_raw = item["eventCode"].text()
    code = EVENT_CODES.get(code_raw)
    if code is None:
        raise TranslationError(
            f"{item.path}.eventCode", f"a payment event code {sorted(EVENT_CODES)}", code_raw
        )
    psp = item["pspReference"].text()
    original = item["originalReference"].opt_text()
    success = item["success"].boolean() and code_raw not in _FAILED_CODES
    kind = code.kind
    if not success and kind is PaymentEventKind.AUTHORIZATION:
        kind = PaymentEventKind.FAILURE
    amount = item["amount"]
    occurred_at = item["eventDate"].timestamp()
    reason = item["reason"].opt_text()
    dispute = None
    if code.dispute is not None:
        dispute = DisputeDetails(dispute_reference=psp, status=code.dispute, reason=reason)
    transaction_key = f"{code_raw}:{psp}"
    return build(
        PaymentEvent,
        item.path,
        metadata=event_metadata(
            record,
            event_type=f"payment.{kind.value.lower()}",
            entity="notification",
            native_id=transaction_key,
            occurred_at=occurred_at,
            discriminator=f"{transaction_key}:{success}",
        ),
        kind=kind,
        status=TransactionStatus.SUCCEEDED if success else TransactionStatus.FAILED,
        payment_id=canonical(record, "payment", original or psp, item["pspReference"].path),
        transaction_id=canonical(record, "transaction", transaction_key, item["pspReference"].path),
        processor="adyen",
        processor_reference=psp,
        parent_reference=original,
        order_native_id=item["merchantReference"].opt_text(),
        amount=money_minor(
            amount["value"].integer(),
            currency_code(amount["currency"].text(), f"{amount.path}.currency"),
            f"{amount.path}.value",
        ),
        method=_method(item),
        failure=None if success else PaymentFailure(code=code_raw, message=reason),
        dispute=dispute,
        processed_at=occurred_at,
    )


@guarded
def translate_notification(record: IngressRecord) -> Sequence[AvroRecord]:
    body = parse_json(record.raw)
    wrappers = list(body["notificationItems"].items())
    if not wrappers:
        raise TranslationError(
            "$.notificationItems", "at least one NotificationRequestItem", body["notificationItems"].value
        )
    return [_item_event(record, wrapper["NotificationRequestItem"]) for wrapper in wrappers]


ROUTES: Mapping[tuple[str, str], Translate] = {("adyen", "notifications"): translate_notification}
