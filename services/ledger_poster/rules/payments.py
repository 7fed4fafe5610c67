"""Processor transactions: captures, fees, refunds, payouts and chargebacks.

    capture          Dr clearing (or gift-card liability)      Cr accounts receivable
    processor fee    Dr processing fees                        Cr clearing
    refund           Dr accounts receivable                    Cr clearing (or gift-card liability)
    payout           Dr bank                                   Cr clearing
    chargeback       Dr chargeback losses                      Cr clearing   (+ its fee: Dr chargeback fees)
    chargeback won   Dr clearing                               Cr chargeback losses

Authorizations, voids, failures and anything not SUCCEEDED move no money in the books. A failed
payout after a posted one is reversed by the handler (it knows what was posted).
"""

from __future__ import annotations

from schemas.common.models import DocumentRef
from schemas.ledger import EntrySide
from schemas.payments import DisputeStatus, PaymentEvent, PaymentEventKind, TransactionStatus
from services.ledger_poster.chart import AccountRole
from services.ledger_poster.entries import Draft, Flow, Leg

__all__ = [
    "CHARGEBACK_RULE",
    "CHARGEBACK_WON_RULE",
    "PAYOUT_RULE",
    "chargeback_document",
    "payment_drafts",
]

PAYOUT_RULE = "payment.payout"
CHARGEBACK_RULE = "payment.chargeback"
CHARGEBACK_WON_RULE = "payment.chargeback-won"


def chargeback_document(payment: PaymentEvent) -> str:
    reference = payment.dispute.dispute_reference if payment.dispute else payment.processor_reference
    return f"{payment.payment_id}:{reference}"


def _dims(payment: PaymentEvent) -> dict[str, str]:
    dims = {"processor": payment.processor, "merchant_account": payment.metadata.source.account}
    if payment.order_id is not None:
        dims["order"] = str(payment.order_id)
    return dims


def _fee_legs(payment: PaymentEvent, role: AccountRole) -> list[Leg]:
    legs: list[Leg] = []
    dims = _dims(payment)
    for fee in payment.fees:
        memo = fee.description or f"{payment.processor} {fee.type} fee"
        legs.append(Leg(role, EntrySide.DEBIT, fee.amount.amount, memo=memo, dimensions=dims))
        legs.append(
            Leg(
                AccountRole.CLEARING,
                EntrySide.CREDIT,
                fee.amount.amount,
                memo=memo,
                dimensions=dims,
                flow=Flow.FEE,
            )
        )
    return legs


def _draft(payment: PaymentEvent, rule: str, document: str, legs: list[Leg], description: str) -> Draft:
    return Draft(
        rule=rule,
        document_id=document,
        currency=payment.amount.currency,
        legs=legs,
        source_document=DocumentRef(type=rule.removeprefix("payment."), id=document),
        description=description,
    )


def payment_drafts(payment: PaymentEvent, gift_card_methods: frozenset[str]) -> list[Draft]:
    """The drafts of one processor transaction (none when it moves no money)."""
    if payment.status is not TransactionStatus.SUCCEEDED and payment.kind is not PaymentEventKind.DISPUTE:
        return []
    amount = payment.amount.amount
    dims = _dims(payment)
    ref = f"{payment.processor} {payment.processor_reference}"
    gift_card = payment.method is not None and payment.method.type in gift_card_methods
    cash_role = AccountRole.GIFT_CARD_LIABILITY if gift_card else AccountRole.CLEARING
    tx = str(payment.transaction_id)
    match payment.kind:
        case PaymentEventKind.CAPTURE:
            legs = [
                Leg(
                    cash_role,
                    EntrySide.DEBIT,
                    amount,
                    memo=ref,
                    dimensions=dims,
                    flow=_flow(gift_card, Flow.CAPTURE),
                ),
                Leg(AccountRole.ACCOUNTS_RECEIVABLE, EntrySide.CREDIT, amount, memo=ref, dimensions=dims),
                *_fee_legs(payment, AccountRole.PROCESSOR_FEES),
            ]
            return [_draft(payment, "payment.capture", tx, legs, f"Capture {ref}")]
        case PaymentEventKind.REFUND:
            legs = [
                Leg(AccountRole.ACCOUNTS_RECEIVABLE, EntrySide.DEBIT, amount, memo=ref, dimensions=dims),
                Leg(
                    cash_role,
                    EntrySide.CREDIT,
                    amount,
                    memo=ref,
                    dimensions=dims,
                    flow=_flow(gift_card, Flow.REFUND),
                ),
                *_fee_legs(payment, AccountRole.PROCESSOR_FEES),
            ]
            return [_draft(payment, "payment.refund", tx, legs, f"Refund {ref}")]
        case PaymentEventKind.PROCESSOR_FEE:
            legs = [
                Leg(AccountRole.PROCESSOR_FEES, EntrySide.DEBIT, amount, memo=ref, dimensions=dims),
                Leg(AccountRole.CLEARING, EntrySide.CREDIT, amount, memo=ref, dimensions=dims, flow=Flow.FEE),
            ]
            return [_draft(payment, "payment.fee", tx, legs, f"Processor fee {ref}")]
        case PaymentEventKind.PAYOUT:
            reference = payment.payout.payout_reference if payment.payout else payment.processor_reference
            legs = [
                Leg(AccountRole.BANK, EntrySide.DEBIT, amount, memo=f"Payout {reference}", dimensions=dims),
                Leg(
                    AccountRole.CLEARING,
                    EntrySide.CREDIT,
                    amount,
                    memo=f"Payout {reference}",
                    dimensions=dims,
                    flow=Flow.PAYOUT,
                ),
                *_fee_legs(payment, AccountRole.PROCESSOR_FEES),
            ]
            return [_draft(payment, PAYOUT_RULE, str(payment.payment_id), legs, f"Payout {ref}")]
        case PaymentEventKind.DISPUTE:
            return _dispute(payment, ref, dims)
        case _:
            return []


def _flow(gift_card: bool, flow: Flow) -> Flow | None:
    return None if gift_card else flow


def _dispute(payment: PaymentEvent, ref: str, dims: dict[str, str]) -> list[Draft]:
    status = payment.dispute.status if payment.dispute else DisputeStatus.UNKNOWN
    amount = payment.amount.amount
    document = chargeback_document(payment)
    if status is DisputeStatus.WON:
        legs = [
            Leg(AccountRole.CLEARING, EntrySide.DEBIT, amount, memo=ref, dimensions=dims, flow=Flow.OTHER),
            Leg(AccountRole.CHARGEBACKS, EntrySide.CREDIT, amount, memo=ref, dimensions=dims),
        ]
        return [_draft(payment, CHARGEBACK_WON_RULE, document, legs, f"Chargeback won {ref}")]
    if status is DisputeStatus.UNKNOWN:
        return []
    legs = [
        Leg(AccountRole.CHARGEBACKS, EntrySide.DEBIT, amount, memo=ref, dimensions=dims),
        Leg(AccountRole.CLEARING, EntrySide.CREDIT, amount, memo=ref, dimensions=dims, flow=Flow.CHARGEBACK),
        *_fee_legs(payment, AccountRole.CHARGEBACK_FEES),
    ]
    return [_draft(payment, CHARGEBACK_RULE, document, legs, f"Chargeback {ref}")]
