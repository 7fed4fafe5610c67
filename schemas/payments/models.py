"""Payments, namespace ``com.esb.canonical.payments``: processor transactions, fees, payouts, disputes."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from schemas.base import AvroRecord, UtcDatetime
from schemas.common.models import EventMetadata, Money

__all__ = [
    "DisputeDetails",
    "DisputeStatus",
    "PaymentEvent",
    "PaymentEventKind",
    "PaymentFailure",
    "PaymentMethod",
    "PayoutDetails",
    "ProcessorFee",
    "TransactionStatus",
]


class PaymentEventKind(StrEnum):
    AUTHORIZATION = "AUTHORIZATION"
    CAPTURE = "CAPTURE"
    VOID = "VOID"
    REFUND = "REFUND"
    FAILURE = "FAILURE"
    PROCESSOR_FEE = "PROCESSOR_FEE"
    PAYOUT = "PAYOUT"
    DISPUTE = "DISPUTE"
    UNKNOWN = "UNKNOWN"


class TransactionStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    PENDING = "PENDING"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


class DisputeStatus(StrEnum):
    OPENED = "OPENED"
    NEEDS_RESPONSE = "NEEDS_RESPONSE"
    UNDER_REVIEW = "UNDER_REVIEW"
    WON = "WON"
    LOST = "LOST"
    UNKNOWN = "UNKNOWN"


class PaymentMethod(AvroRecord):
    """How the buyer paid. Card numbers never enter the model; last4 and brand only."""

    type: str = Field(description="card, paypal, klarna, bank_transfer, gift_card...")
    brand: str | None = None
    last4: str | None = None
    wallet: str | None = Field(default=None, description="apple_pay, google_pay...")


class ProcessorFee(AvroRecord):
    type: str = Field(description="processing, fx, chargeback, payout, tax...")
    amount: Money
    description: str | None = None


class PaymentFailure(AvroRecord):
    code: str | None = None
    message: str | None = None
    decline_code: str | None = None


class PayoutDetails(AvroRecord):
    payout_reference: str
    status: str = Field(description="the processor's status: paid, pending, in_transit, failed...")
    arrival_date: UtcDatetime | None = None
    gross: Money | None = None
    fees: Money | None = None
    net: Money | None = Field(default=None, description="what reaches the bank account")


class DisputeDetails(AvroRecord):
    dispute_reference: str
    status: DisputeStatus
    reason: str | None = None
    evidence_due_by: UtcDatetime | None = None


class PaymentEvent(AvroRecord):
    """Value of ``canonical.payments.v1``. Key: ``payment_id`` (the payout's id for ``PAYOUT``)."""

    metadata: EventMetadata
    kind: PaymentEventKind
    status: TransactionStatus = TransactionStatus.SUCCEEDED
    payment_id: UUID = Field(description="canonical id of the payment (charge/PSP reference) or payout")
    transaction_id: UUID = Field(description="canonical id of this one transaction")
    processor: str = Field(description="stripe, adyen, shopify_payments, paypal, amazon...")
    processor_reference: str = Field(description="the processor's id of this transaction")
    parent_reference: str | None = Field(
        default=None,
        description="the transaction this one modifies (Adyen originalReference, Shopify parent_id)",
    )
    order_id: UUID | None = Field(default=None, description="canonical order id when known")
    order_native_id: str | None = None
    amount: Money = Field(description="positive; the kind says the direction")
    presentment_amount: Money | None = None
    fees: list[ProcessorFee] = Field(default_factory=list)
    net: Money | None = Field(default=None, description="amount minus fees, when the processor reports it")
    method: PaymentMethod | None = None
    failure: PaymentFailure | None = None
    payout: PayoutDetails | None = None
    dispute: DisputeDetails | None = None
    processed_at: UtcDatetime | None = None
