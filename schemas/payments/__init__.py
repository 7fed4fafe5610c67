"""Canonical payments events."""

from schemas.payments.models import (
    DisputeDetails,
    DisputeStatus,
    PaymentEvent,
    PaymentEventKind,
    PaymentFailure,
    PaymentMethod,
    PayoutDetails,
    ProcessorFee,
    TransactionStatus,
)

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
