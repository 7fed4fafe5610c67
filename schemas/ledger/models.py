"""Ledger, namespace ``com.esb.canonical.ledger``: balanced double-entry journal entries."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from schemas.base import AvroRecord, CurrencyCode, Rate
from schemas.common.models import DocumentRef, EventMetadata, Money

__all__ = [
    "EntrySide",
    "FxRate",
    "JournalEntryEvent",
    "JournalEntryKind",
    "JournalLine",
    "PayoutReconciliationEvent",
    "ReconciliationStatus",
]


class JournalEntryKind(StrEnum):
    POSTED = "POSTED"
    REVERSAL = "REVERSAL"
    UNKNOWN = "UNKNOWN"


class EntrySide(StrEnum):
    DEBIT = "DEBIT"
    CREDIT = "CREDIT"
    UNKNOWN = "UNKNOWN"


class JournalLine(AvroRecord):
    line_no: int
    account: str = Field(description="chart-of-accounts code from the mapping")
    side: EntrySide
    amount: Money = Field(description="positive, in the transaction currency")
    functional_amount: Money = Field(description="positive, in the entity's functional currency")
    exchange_rate: Rate | None = Field(default=None, description="transaction -> functional; null when equal")
    dimensions: dict[str, str] = Field(default_factory=dict, description="channel, location, department...")
    memo: str | None = None


class JournalEntryEvent(AvroRecord):
    """Value of ``canonical.journal-entries.v1``. Key: ``entry_id``. Debits equal credits per currency."""

    metadata: EventMetadata
    entry_id: UUID = Field(description="deterministic from the source document: replays post nothing twice")
    kind: JournalEntryKind
    reverses_entry_id: UUID | None = None
    legal_entity: str
    posting_date: date
    functional_currency: CurrencyCode
    description: str | None = None
    source_document: DocumentRef
    lines: list[JournalLine]
    accounting_period: str | None = Field(default=None, description="YYYY-MM of posting_date")
    original_date: date | None = Field(
        default=None, description="the source date when it fell in a closed period and the entry moved on"
    )


class FxRate(AvroRecord):
    """Value of ``canonical.fx-rates.v1``: one published daily rate, ``1 base = rate quote``.

    Key: ``<base>/<quote>``. Written to every partition (the ledger poster keeps rates per partition).
    """

    metadata: EventMetadata
    base_currency: CurrencyCode
    quote_currency: CurrencyCode
    rate: Rate
    rate_date: date
    provider: str = Field(description="who published it: ecb, openexchangerates, erp...")


class ReconciliationStatus(StrEnum):
    MATCHED = "MATCHED"
    DIFFERENCE = "DIFFERENCE"
    UNKNOWN = "UNKNOWN"


class PayoutReconciliationEvent(AvroRecord):
    """Value of ``canonical.payout-reconciliations.v1``: a payout against the clearing movements it settles.

    ``expected = captures - refunds - fees - chargebacks + other``; ``difference = payout - expected``.
    Key: ``payout_id``.
    """

    metadata: EventMetadata
    reconciliation_id: UUID = Field(description="deterministic from the payout's journal entry")
    legal_entity: str
    processor: str
    merchant_account: str
    payout_id: str = Field(description="canonical id of the payout")
    payout_reference: str | None = None
    window_start: date | None = Field(default=None, description="first movement date in the window")
    window_end: date = Field(description="last movement date in the window (the payout date)")
    payout_amount: Money
    captures: Money
    refunds: Money
    fees: Money
    chargebacks: Money
    other: Money = Field(description="other clearing movements (chargebacks won back...), signed")
    expected: Money
    difference: Money
    movements: int = Field(description="clearing movements in the window")
    status: ReconciliationStatus
