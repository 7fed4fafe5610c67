"""Payout reconciliation: a payout against the clearing movements it should settle.

Every journal line on a processor clearing account carries a *flow* (capture, refund, fee,
chargeback, payout, other). The poster turns each entry's clearing lines into one
:class:`SettlementMovement` per settlement account (processor, merchant account, currency) and sends it,
keyed by that account, to an internal topic, so all movements of one settlement account meet in one
partition. There they are summed per day; a payout takes every day up to its own date (its window),
compares ``captures - refunds - fees - chargebacks + other`` with the amount paid out and emits a
:class:`PayoutReconciliationEvent` with the difference. Movements dated inside a window that arrive
after its payout fall into the next window, where they show up as that payout's difference.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from schemas.common.models import EventMetadata, Money, SourceRef
from schemas.ledger import EntrySide, JournalEntryEvent, PayoutReconciliationEvent, ReconciliationStatus
from services.ledger_poster.entries import LEDGER_NAMESPACE, Flow
from services.ledger_poster.money import quantize

__all__ = ["SettlementMovement", "apply_movement", "movements_of", "settlement_key"]

# Sign of each flow in the expected payout (clearing debits minus credits, from the processor's side).
_SIGN: dict[Flow, int] = {
    Flow.CAPTURE: 1,
    Flow.REFUND: -1,
    Flow.FEE: -1,
    Flow.CHARGEBACK: -1,
    Flow.OTHER: 1,
    Flow.PAYOUT: -1,
}


class SettlementMovement(BaseModel):
    """One entry's effect on one settlement account (internal topic, JSON). Amounts are positive per flow
    as the flow's sign defines it: a capture of 10 is ``capture: 10``, its fee of 0.59 is ``fee: 0.59``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entry_id: str
    legal_entity: str
    processor: str
    merchant_account: str
    currency: str
    movement_date: date
    occurred_at: datetime
    flows: dict[Flow, Decimal]
    payout_id: str | None = None
    payout_reference: str | None = None
    correlation_id: str | None = None


def settlement_key(processor: str, merchant_account: str, currency: str) -> str:
    return f"{processor}|{merchant_account}|{currency}"


def movements_of(entry: JournalEntryEvent, occurred_at: datetime) -> list[SettlementMovement]:
    """The clearing movements of ``entry`` (lines with a ``flow`` dimension), per settlement account."""
    grouped: dict[tuple[str, str, str], dict[Flow, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in entry.lines:
        flow_name = line.dimensions.get("flow")
        if flow_name is None:
            continue
        flow = Flow(flow_name)
        debit_minus_credit = line.amount.amount if line.side is EntrySide.DEBIT else -line.amount.amount
        key = (
            line.dimensions.get("processor", "unknown"),
            line.dimensions.get("merchant_account", "unknown"),
            line.amount.currency,
        )
        grouped[key][flow] += debit_minus_credit * _SIGN[flow]
    movements = []
    for (processor, account, currency), flows in sorted(grouped.items()):
        payout = flows.get(Flow.PAYOUT, Decimal(0))
        if payout < 0:  # a payout reversed (failed): the money is back in the balance
            flows[Flow.OTHER] += -payout
            del flows[Flow.PAYOUT]
        is_payout = Flow.PAYOUT in flows
        movements.append(
            SettlementMovement(
                entry_id=str(entry.entry_id),
                legal_entity=entry.legal_entity,
                processor=processor,
                merchant_account=account,
                currency=currency,
                movement_date=entry.original_date or entry.posting_date,
                occurred_at=occurred_at,
                flows=dict(flows),
                payout_id=entry.source_document.id if is_payout else None,
                payout_reference=entry.description if is_payout else None,
                correlation_id=entry.metadata.correlation_id,
            )
        )
    return movements


def apply_movement(
    movement: SettlementMovement, state: dict[str, Any] | None
) -> tuple[dict[str, Any], PayoutReconciliationEvent | None]:
    """Fold a movement into the settlement account's state; a payout closes its window."""
    days: dict[str, dict[str, str]] = dict((state or {}).get("days", {}))
    day = movement.movement_date.isoformat()
    bucket = {k: Decimal(v) for k, v in days.get(day, {}).items()}
    for flow, amount in movement.flows.items():
        if flow is Flow.PAYOUT:
            continue
        bucket[flow.value] = bucket.get(flow.value, Decimal(0)) + amount
    bucket["n"] = bucket.get("n", Decimal(0)) + (0 if set(movement.flows) == {Flow.PAYOUT} else 1)
    days[day] = {k: str(v) for k, v in bucket.items()}
    if Flow.PAYOUT not in movement.flows:
        return {"days": days}, None
    window = sorted(d for d in days if d <= day)
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for d in window:
        for k, v in days.pop(d).items():
            sums[k] += Decimal(v)
    return {"days": days}, _reconciliation(movement, window, sums)


def _reconciliation(
    movement: SettlementMovement, window: Sequence[str], sums: dict[str, Decimal]
) -> PayoutReconciliationEvent:
    currency = movement.currency

    def money(value: Decimal) -> Money:
        return Money(amount=quantize(value, currency), currency=currency)

    expected = sum((sums[f.value] * _SIGN[f] for f in Flow if f is not Flow.PAYOUT), Decimal(0))
    paid = movement.flows[Flow.PAYOUT]
    difference = paid - expected
    rec_id = uuid.uuid5(LEDGER_NAMESPACE, f"reconciliation:{movement.entry_id}")
    return PayoutReconciliationEvent(
        metadata=EventMetadata(
            event_id=rec_id,
            event_type="payout.reconciled",
            occurred_at=movement.occurred_at,
            ingested_at=movement.occurred_at,
            source=SourceRef(
                system="esb",
                account=movement.legal_entity,
                entity="payout_reconciliation",
                native_id=movement.payout_id or movement.entry_id,
            ),
            correlation_id=movement.correlation_id,
            causation_id=movement.entry_id,
        ),
        reconciliation_id=rec_id,
        legal_entity=movement.legal_entity,
        processor=movement.processor,
        merchant_account=movement.merchant_account,
        payout_id=movement.payout_id or movement.entry_id,
        payout_reference=movement.payout_reference,
        window_start=date.fromisoformat(window[0]) if window else None,
        window_end=movement.movement_date,
        payout_amount=money(paid),
        captures=money(sums[Flow.CAPTURE.value]),
        refunds=money(sums[Flow.REFUND.value]),
        fees=money(sums[Flow.FEE.value]),
        chargebacks=money(sums[Flow.CHARGEBACK.value]),
        other=money(sums[Flow.OTHER.value]),
        expected=money(expected),
        difference=money(difference),
        movements=int(sums["n"]),
        status=ReconciliationStatus.MATCHED if difference == 0 else ReconciliationStatus.DIFFERENCE,
    )
