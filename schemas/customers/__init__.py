"""Canonical customers events."""

from schemas.customers.models import (
    ConsentState,
    CrosswalkEntry,
    CustomerChange,
    CustomerEvent,
    CustomerMatchReview,
    CustomerMergeEvent,
    CustomerStewardCommand,
    CustomerSummary,
    ErasureRequest,
    GoldenCustomer,
    MatchEvidence,
    MergeKind,
    SourceCustomer,
)

__all__ = [
    "ConsentState",
    "CrosswalkEntry",
    "CustomerChange",
    "CustomerEvent",
    "CustomerMatchReview",
    "CustomerMergeEvent",
    "CustomerStewardCommand",
    "CustomerSummary",
    "ErasureRequest",
    "GoldenCustomer",
    "MatchEvidence",
    "MergeKind",
    "SourceCustomer",
]
