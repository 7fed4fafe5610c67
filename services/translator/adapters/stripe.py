"""Stripe events (and polled balance transactions) -> ``PaymentEvent``.

Money is an integer in the currency's minor unit; ``created`` is Unix seconds (UTC).
A charge is the payment (``payment_id`` from the charge id: refunds and balance transactions
reference charges, never intents). ``transaction_id`` is the idempotency key of one money movement:
``charge.succeeded`` and ``payment_intent.succeeded`` for the same charge give the same
capture ``transaction_id`` — the ledger posts per transaction, not per event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from schemas.base import AvroRecord
from schemas.common.models import Money
from schemas.payments.models import (
    PaymentEvent,
    PaymentEventKind,
    PaymentFailure,
    PaymentMethod,
    PayoutDetails,
    ProcessorFee,
    TransactionStatus,
)
from services.translator.convert import build, canonical, currency_code, guarded, money_minor
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode, parse_json
from services.translator.metadata import event_metadata
from services.translator.registry import Translate

__all__ = ["ROUTES", "translate_balance_transaction", "translate_event"]

_PROCESSOR = "stripe"


def _minor(amount: JsonNode, currency: JsonNode) -> Money:
    return money_minor(amount.integer(), currency_code(currency.text(), currency.path), amount.path)


def _method(charge: JsonNode) -> PaymentMethod | None:
    details = charge["payment_method_details"]
    if details.is_absent:
        return None
    kind = details["type"].text()
    card = details[kind] if kind in ("card", "card_present") else JsonNode(None, details.path)
    wallet = card.path_get("wallet", "type").opt_text() if card.is_present else None
    return PaymentMethod(
        type="card" if kind == "card_present" else kind,
        brand=card["brand"].opt_text() if card.is_present else None,
        last4=card["last4"].opt_text() if card.is_present else None,
        wallet=wallet,
    )


def _charge_event(record: IngressRecord, event: JsonNode, charge: JsonNode, captured: bool) -> PaymentEvent:
    charge_id = charge["id"].text()
    status = _CHARGE_STATUS.get(charge["status"].text(), TransactionStatus.UNKNOWN)
    kind = PaymentEventKind.CAPTURE if captured else PaymentEventKind.AUTHORIZATION
    if status is TransactionStatus.FAILED:
        kind = PaymentEventKind.FAILURE
    amount_node = charge["amount_captured"] if captured and charge["amount_captured"].is_present else None
    amount = _minor(amount_node or charge["amount"], charge["currency"])
    processed_at = charge["created"].unix_seconds()
    failure = None
    if kind is PaymentEventKind.FAILURE:
        failure = PaymentFailure(
            code=charge["failure_code"].opt_text(),
            message=charge["failure_message"].opt_text(),
            decline_code=charge.path_get("outcome", "reason").opt_text(),
        )
    entity = kind.value.lower()
    return build(
        PaymentEvent,
        charge.path,
        metadata=event_metadata(
            record,
            event_type=f"payment.{entity}",
            entity="charge",
            native_id=charge_id,
            occurred_at=event["created"].unix_seconds() if event.is_present else processed_at,
            discriminator=entity,
        ),
        kind=kind,
        status=status,
        payment_id=canonical(record, "charge", charge_id, charge["id"].path),
        transaction_id=canonical(record, entity, charge_id, charge["id"].path),
        processor=_PROCESSOR,
        processor_reference=charge_id,
        parent_reference=charge["payment_intent"].opt_text(),
        amount=amount,
        method=_method(charge),
        failure=failure,
        processed_at=processed_at,
    )


def _charge(record: IngressRecord, event: JsonNode, obj: JsonNode) -> list[PaymentEvent]:
    return [_charge_event(record, event, obj, captured=obj["captured"].boolean())]


def _refunds(record: IngressRecord, event: JsonNode, charge: JsonNode) -> list[PaymentEvent]:
    """One REFUND per refund object; the list is cumulative, so replays map to the same transaction ids.

    No ``ReturnEvent``: a Stripe refund knows neither order lines nor restocking — the order system
    (storefront or ERP) owns returns.
    """
    charge_id = charge["id"].text()
    refunds = list(charge.path_get("refunds", "data").items())
    if not refunds:
        raise TranslationError(
            f"{charge.path}.refunds.data",
            "the charge's refund objects",
            "none",
            "newer API versions omit refunds from charge.refunded: subscribe to refund.* events",
        )
    events: list[PaymentEvent] = []
    for refund in refunds:
        refund_id = refund["id"].text()
        status = refund["status"].text()
        events.append(
            build(
                PaymentEvent,
                refund.path,
                metadata=event_metadata(
                    record,
                    event_type="payment.refund",
                    entity="refund",
                    native_id=refund_id,
                    occurred_at=refund["created"].unix_seconds(),
                    discriminator=refund_id,
                ),
                kind=PaymentEventKind.REFUND,
                status=_REFUND_STATUS.get(status, TransactionStatus.UNKNOWN),
                payment_id=canonical(record, "charge", charge_id, charge["id"].path),
                transaction_id=canonical(record, "refund", refund_id, refund["id"].path),
                processor=_PROCESSOR,
                processor_reference=refund_id,
                parent_reference=charge_id,
                amount=_minor(refund["amount"], refund["currency"]),
                method=_method(charge),
                processed_at=refund["created"].unix_seconds(),
            )
        )
    return events


_CHARGE_STATUS: Mapping[str, TransactionStatus] = {
    "succeeded": TransactionStatus.SUCCEEDED,
    "pending": TransactionStatus.PENDING,
    "failed": TransactionStatus.FAILED,
}

_REFUND_STATUS: Mapping[str, TransactionStatus] = {
    "succeeded": TransactionStatus.SUCCEEDED,
    "pending": TransactionStatus.PENDING,
    "requires_action": TransactionStatus.PENDING,
    "failed": TransactionStatus.FAILED,
    "canceled": TransactionStatus.FAILED,
}


def _payment_intent(record: IngressRecord, event: JsonNode, intent: JsonNode) -> list[PaymentEvent]:
    """The capture of the intent's charge (``charges.data`` before API 2022-11-15)."""
    charges = list(intent.path_get("charges", "data").items())
    if not charges:
        raise TranslationError(
            f"{intent.path}.charges.data",
            "the intent's charge",
            "none",
            "from API 2022-11-15 intents carry only latest_charge: translate charge.succeeded instead",
        )
    return [_charge_event(record, event, charge, captured=charge["captured"].boolean()) for charge in charges]


def _payout(record: IngressRecord, event: JsonNode, payout: JsonNode) -> list[PaymentEvent]:
    payout_id = payout["id"].text()
    amount = _minor(payout["amount"], payout["currency"])
    status = payout["status"].text()
    payout_key = canonical(record, "payout", payout_id, payout["id"].path)
    failed = status in ("failed", "canceled")
    return [
        build(
            PaymentEvent,
            payout.path,
            metadata=event_metadata(
                record,
                event_type=f"payout.{status}",
                entity="payout",
                native_id=payout_id,
                occurred_at=event["created"].unix_seconds(),
            ),
            kind=PaymentEventKind.PAYOUT,
            status=TransactionStatus.FAILED
            if failed
            else _PAYOUT_STATUS.get(status, TransactionStatus.UNKNOWN),
            payment_id=payout_key,
            transaction_id=payout_key,
            processor=_PROCESSOR,
            processor_reference=payout_id,
            amount=amount,
            net=amount,
            failure=PaymentFailure(
                code=payout["failure_code"].opt_text(), message=payout["failure_message"].opt_text()
            )
            if failed
            else None,
            payout=PayoutDetails(
                payout_reference=payout_id,
                status=status,
                arrival_date=payout["arrival_date"].unix_seconds()
                if payout["arrival_date"].is_present
                else None,
                net=amount,
            ),
            processed_at=payout["created"].unix_seconds(),
        )
    ]


_PAYOUT_STATUS: Mapping[str, TransactionStatus] = {
    "paid": TransactionStatus.SUCCEEDED,
    "pending": TransactionStatus.PENDING,
    "in_transit": TransactionStatus.PENDING,
}


def _balance_transaction(
    record: IngressRecord, occurred_at: datetime | None, txn: JsonNode
) -> list[PaymentEvent]:
    """The processor's fee and net for one balance movement (PROCESSOR_FEE, amount = total fee)."""
    if txn["object"].opt_text() not in (None, "balance_transaction"):
        raise TranslationError(f"{txn.path}.object", "balance_transaction", txn["object"].value)
    txn_id = txn["id"].text()
    currency = txn["currency"]
    fee_total = _minor(txn["fee"], currency)
    fees = [
        ProcessorFee(
            type=detail["type"].text(),
            amount=_minor(detail["amount"], detail["currency"]),
            description=detail["description"].opt_text(),
        )
        for detail in txn["fee_details"].items()
    ]
    if fees and sum(fee.amount.amount for fee in fees) != fee_total.amount:
        raise TranslationError(
            f"{txn.path}.fee_details",
            f"fees summing to fee {fee_total.amount}",
            [f.amount.amount for f in fees],
        )
    gross = _minor(txn["amount"], currency)
    net = _minor(txn["net"], currency)
    if gross.amount - fee_total.amount != net.amount:
        raise TranslationError(
            f"{txn.path}.net", f"amount - fee = {gross.amount - fee_total.amount}", net.amount
        )
    created = txn["created"].unix_seconds()
    source = txn["source"].opt_text()
    return [
        build(
            PaymentEvent,
            txn.path,
            metadata=event_metadata(
                record,
                event_type="payment.processor_fee",
                entity="balance_transaction",
                native_id=txn_id,
                occurred_at=occurred_at or created,
            ),
            kind=PaymentEventKind.PROCESSOR_FEE,
            status=TransactionStatus.SUCCEEDED
            if txn["status"].text() == "available"
            else TransactionStatus.PENDING,
            payment_id=canonical(record, "charge", source)
            if source
            else canonical(record, "balance_transaction", txn_id),
            transaction_id=canonical(record, "balance_transaction", txn_id, txn["id"].path),
            processor=_PROCESSOR,
            processor_reference=txn_id,
            parent_reference=source,
            amount=fee_total,
            fees=fees,
            net=net,
            processed_at=created,
        )
    ]


_Handler = Callable[[IngressRecord, JsonNode, JsonNode], list[PaymentEvent]]

# event type -> handler of data.object; a table so that supporting a type is one line.
_EVENT_HANDLERS: Mapping[str, _Handler] = {
    "charge.succeeded": _charge,
    "charge.captured": _charge,
    "charge.failed": _charge,
    "charge.refunded": _refunds,
    "payment_intent.succeeded": _payment_intent,
    "payout.paid": _payout,
    "payout.failed": _payout,
    "payout.canceled": _payout,
}


@guarded
def translate_event(record: IngressRecord) -> Sequence[AvroRecord]:
    event = parse_json(record.raw)
    if event["object"].text() != "event":
        raise TranslationError("$.object", "event", event["object"].value)
    event_type = event["type"].text()
    handler = _EVENT_HANDLERS.get(event_type)
    if handler is None:
        raise TranslationError("$.type", f"one of {sorted(_EVENT_HANDLERS)}", event_type)
    obj = event.path_get("data", "object")
    obj.keys()  # must be an object: fails with its path otherwise
    return handler(record, event, obj)


@guarded
def translate_balance_transaction(record: IngressRecord) -> Sequence[AvroRecord]:
    """A balance transaction fetched from the API (Stripe sends no webhook for it)."""
    txn = parse_json(record.raw)
    txn.keys()
    return _balance_transaction(record, None, txn)


ROUTES: Mapping[tuple[str, str], Translate] = {
    ("stripe", "events"): translate_event,
    ("stripe", "balance-transactions"): translate_balance_transaction,
}
