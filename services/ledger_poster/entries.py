"""From a rule's draft (roles, sides, amounts) to a balanced canonical journal entry.

A rule returns a :class:`Draft`: legs that name a *role* and an amount in the transaction currency.
:func:`finalize` resolves each role to an account through the chart, converts every line to the
functional currency, and proves the entry balances:

* in the transaction currency the legs must balance exactly (rules build them so), else the entry is
  refused (:class:`UnbalancedEntryError`);
* in the functional currency per-line rounding may leave a few minor units; they go to the rounding
  account as one line with a zero transaction amount.

Entry ids are UUIDv5 of (source document id, rule, revision): the same money movement always gets
the same id, whichever event (or re-delivery) carried it, so a replay posts nothing twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from schemas.common.models import DocumentRef, EventMetadata, Money, SourceRef
from schemas.ledger import EntrySide, JournalEntryEvent, JournalEntryKind, JournalLine
from services.ledger_poster.chart import AccountRole, Chart, PostingScope
from services.ledger_poster.money import RateBook, convert, minor_quantum, quantize
from services.ledger_poster.periods import posting_for

__all__ = [
    "LEDGER_NAMESPACE",
    "Draft",
    "Flow",
    "Leg",
    "UnbalancedEntryError",
    "entry_id",
    "finalize",
    "reverse",
    "side_totals",
]

LEDGER_NAMESPACE = uuid.UUID("0b7d51d2-3c1a-5e0f-8a8e-6c4b1f2d9e37")  # fixed forever


class UnbalancedEntryError(ValueError):
    """A rule produced legs whose debits and credits differ: a bug or inconsistent source figures."""


class Flow(StrEnum):
    """What a clearing-account leg is, for payout reconciliation."""

    CAPTURE = "capture"
    REFUND = "refund"
    FEE = "fee"
    CHARGEBACK = "chargeback"
    PAYOUT = "payout"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Leg:
    """One line of a draft; a negative amount flips the side, a zero amount is dropped."""

    role: AccountRole
    side: EntrySide
    amount: Decimal
    memo: str | None = None
    dimensions: Mapping[str, str] = field(default_factory=dict)
    scope: Mapping[str, str] = field(default_factory=dict)  # extra chart keys, e.g. jurisdiction
    flow: Flow | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    rule: str
    document_id: str
    currency: str
    legs: Sequence[Leg]
    source_document: DocumentRef
    description: str
    revision: int = 0


def entry_id(document_id: str, rule: str, revision: int = 0) -> uuid.UUID:
    return uuid.uuid5(LEDGER_NAMESPACE, json.dumps([document_id, rule, revision], separators=(",", ":")))


def _flip(side: EntrySide) -> EntrySide:
    return EntrySide.CREDIT if side is EntrySide.DEBIT else EntrySide.DEBIT


def side_totals(lines: Sequence[JournalLine], functional: bool = False) -> dict[EntrySide, Decimal]:
    totals = {EntrySide.DEBIT: Decimal(0), EntrySide.CREDIT: Decimal(0)}
    for line in lines:
        totals[line.side] += (line.functional_amount if functional else line.amount).amount
    return totals


def finalize(
    draft: Draft,
    *,
    chart: Chart,
    entity_code: str,
    scope: PostingScope,
    rates: RateBook,
    source: EventMetadata,
    occurred_at: datetime,
) -> JournalEntryEvent:
    """The balanced journal entry of ``draft`` in ``entity_code``'s books."""
    entity = chart.entities[entity_code]
    functional = entity.functional_currency
    posting = posting_for(entity, occurred_at)
    rate_date = posting.original_date or posting.posting_date
    rate = rates.rate(draft.currency, functional, rate_date)
    base_scope = scope.with_(entity=entity_code, currency=draft.currency)

    lines: list[JournalLine] = []
    for leg in draft.legs:
        amount = quantize(leg.amount, draft.currency)
        if amount == 0:
            continue
        side = leg.side if amount > 0 else _flip(leg.side)
        amount = abs(amount)
        leg_scope = base_scope.with_(**leg.scope) if leg.scope else base_scope
        dims = {"entity": entity_code, **leg.dimensions}
        if leg.flow is not None:
            dims["flow"] = str(leg.flow)
        lines.append(
            JournalLine(
                line_no=len(lines) + 1,
                account=chart.account_for(leg.role, leg_scope),
                side=side,
                amount=Money(amount=amount, currency=draft.currency),
                functional_amount=Money(amount=convert(amount, rate, functional), currency=functional),
                exchange_rate=None if draft.currency == functional else rate,
                dimensions=dims,
                memo=leg.memo,
            )
        )
    totals = side_totals(lines)
    tx_gap = totals[EntrySide.DEBIT] - totals[EntrySide.CREDIT]
    if tx_gap != 0:
        # Legs at sub-minor-unit precision may each round by half a unit; anything more is a real imbalance.
        if abs(tx_gap) > minor_quantum(draft.currency) * len(draft.legs) / 2:
            raise UnbalancedEntryError(
                f"{draft.rule} for {draft.document_id}: debits {totals[EntrySide.DEBIT]} != "
                f"credits {totals[EntrySide.CREDIT]} {draft.currency}"
            )
        amount = abs(tx_gap)
        lines.append(
            JournalLine(
                line_no=len(lines) + 1,
                account=chart.account_for(AccountRole.ROUNDING, base_scope),
                side=EntrySide.CREDIT if tx_gap > 0 else EntrySide.DEBIT,
                amount=Money(amount=amount, currency=draft.currency),
                functional_amount=Money(amount=convert(amount, rate, functional), currency=functional),
                exchange_rate=None if draft.currency == functional else rate,
                dimensions={"entity": entity_code},
                memo="transaction-currency rounding",
            )
        )
    functional_totals = side_totals(lines, functional=True)
    gap = functional_totals[EntrySide.DEBIT] - functional_totals[EntrySide.CREDIT]
    if abs(gap) > minor_quantum(functional) * len(lines) / 2:
        raise UnbalancedEntryError(
            f"{draft.rule} for {draft.document_id}: conversion left {gap} {functional}, more than rounding"
        )
    if gap != 0:
        lines.append(
            JournalLine(
                line_no=len(lines) + 1,
                account=chart.account_for(AccountRole.ROUNDING, base_scope),
                side=EntrySide.CREDIT if gap > 0 else EntrySide.DEBIT,
                amount=Money(amount=Decimal(0), currency=draft.currency),
                functional_amount=Money(amount=abs(gap), currency=functional),
                exchange_rate=rate,
                dimensions={"entity": entity_code},
                memo="functional-currency rounding",
            )
        )
    new_id = entry_id(draft.document_id, draft.rule, draft.revision)
    return JournalEntryEvent(
        metadata=_metadata(new_id, "journal_entry.posted", entity_code, source),
        entry_id=new_id,
        kind=JournalEntryKind.POSTED,
        legal_entity=entity_code,
        posting_date=posting.posting_date,
        functional_currency=functional,
        description=draft.description,
        source_document=draft.source_document,
        lines=lines,
        accounting_period=posting.period,
        original_date=posting.original_date,
    )


def reverse(
    entry: JournalEntryEvent,
    *,
    chart: Chart,
    reason: str,
    source: EventMetadata,
    occurred_at: datetime,
    revision: int,
) -> JournalEntryEvent:
    """A reversal of ``entry``: the same lines with sides swapped, dated when the correction happened."""
    entity = chart.entities[entry.legal_entity]
    posting = posting_for(entity, occurred_at)
    new_id = entry_id(str(entry.entry_id), f"reversal:{reason}", revision)
    lines = [line.model_copy(update={"side": _flip(line.side)}) for line in entry.lines]
    return JournalEntryEvent(
        metadata=_metadata(new_id, "journal_entry.reversed", entry.legal_entity, source),
        entry_id=new_id,
        kind=JournalEntryKind.REVERSAL,
        reverses_entry_id=entry.entry_id,
        legal_entity=entry.legal_entity,
        posting_date=posting.posting_date,
        functional_currency=entry.functional_currency,
        description=f"Reversal ({reason}) of {entry.description or entry.entry_id}",
        source_document=entry.source_document,
        lines=lines,
        accounting_period=posting.period,
        original_date=posting.original_date,
    )


def _metadata(new_id: uuid.UUID, event_type: str, entity: str, source: EventMetadata) -> EventMetadata:
    return EventMetadata(
        event_id=new_id,
        event_type=event_type,
        occurred_at=source.occurred_at,
        ingested_at=source.ingested_at,
        source=SourceRef(system="esb", account=entity, entity="journal_entry", native_id=str(new_id)),
        correlation_id=source.correlation_id,
        causation_id=str(source.event_id),
    )
