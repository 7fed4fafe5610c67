"""Canonical ledger events."""

from schemas.ledger.models import (
    EntrySide,
    FxRate,
    JournalEntryEvent,
    JournalEntryKind,
    JournalLine,
    PayoutReconciliationEvent,
    ReconciliationStatus,
)

__all__ = [
    "EntrySide",
    "FxRate",
    "JournalEntryEvent",
    "JournalEntryKind",
    "JournalLine",
    "PayoutReconciliationEvent",
    "ReconciliationStatus",
]
