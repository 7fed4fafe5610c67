"""The ledger poster's handler: canonical events in, journal entries (and their effects) out.

One handler serves every input (the runtime co-partitions them):

* orders, payments, returns -> posting rules -> journal entries, each emitted once (``posted|<id>``
  in the ``ledger`` store), the partition's part of the trial balance updated, clearing movements
  sent on to the settlement topic keyed by settlement account;
* fx rates -> the ``rates`` store (every partition receives every rate);
* settlement movements -> per-settlement-account day sums; a payout emits its reconciliation.

Permanent problems (no route to an entity, no rate, figures that do not add up) dead-letter the event
with the reason; nothing is posted half-way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bus.errors import DeadLetterError
from bus.service import Context, Emit, Event, Handler, Outgoing, StatePut
from schemas.ledger import FxRate, JournalEntryEvent
from schemas.orders import OrderChange, OrderEvent
from schemas.payments import PaymentEvent, PaymentEventKind, TransactionStatus
from schemas.returns import ReturnChange, ReturnEvent
from services.ledger_poster.chart import Chart, PostingScope, RefundCashSource, SaleTrigger
from services.ledger_poster.entries import Draft, UnbalancedEntryError, entry_id, finalize, reverse
from services.ledger_poster.money import RateNotFoundError, StoredRates, rate_key
from services.ledger_poster.reconciliation import (
    SettlementMovement,
    apply_movement,
    movements_of,
    settlement_key,
)
from services.ledger_poster.rules.payments import (
    CHARGEBACK_RULE,
    CHARGEBACK_WON_RULE,
    PAYOUT_RULE,
    chargeback_document,
    payment_drafts,
)
from services.ledger_poster.rules.returns import credit_memo_draft, refund_cash_draft, restock_drafts
from services.ledger_poster.rules.sales import sale_draft
from services.ledger_poster.trial_balance import apply_entry, periods_key, tb_key

__all__ = [
    "STORES",
    "STORE_LEDGER",
    "STORE_ORDERS",
    "STORE_RATES",
    "STORE_SETTLEMENT",
    "Topics",
    "make_handler",
]

STORE_LEDGER = "ledger"
STORE_ORDERS = "orders"
STORE_RATES = "rates"
STORE_SETTLEMENT = "settlement"
STORES = (STORE_LEDGER, STORE_ORDERS, STORE_RATES, STORE_SETTLEMENT)
_RATE_DAYS_KEPT = 400


@dataclass(frozen=True, slots=True)
class Topics:
    orders: str
    payments: str
    returns: str
    rates: str
    entries: str
    settlement: str
    reconciliations: str


def make_handler(chart: Chart, topics: Topics) -> Handler:
    poster = _Poster(chart, topics)

    def handle(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
        value = event.value
        if isinstance(value, OrderEvent):
            return poster.order(value, ctx)
        if isinstance(value, PaymentEvent):
            return poster.payment(value, ctx)
        if isinstance(value, ReturnEvent):
            return poster.return_(value, ctx)
        if isinstance(value, FxRate):
            return _rate(value, ctx)
        if isinstance(value, SettlementMovement):
            return poster.settle(value, ctx)
        raise DeadLetterError(f"the ledger poster does not handle {type(value).__name__} from {event.topic}")

    return handle


def _rate(rate: FxRate, ctx: Context) -> list[Outgoing]:
    key = rate_key(rate.base_currency, rate.quote_currency)
    table = dict(ctx.state(STORE_RATES).get(key) or {})
    table[rate.rate_date.isoformat()] = str(rate.rate)
    kept = dict(sorted(table.items())[-_RATE_DAYS_KEPT:])
    return [StatePut(STORE_RATES, key, kept)]


def _fingerprint(draft: Draft) -> str:
    legs = [
        [leg.role, leg.side, str(leg.amount), sorted(leg.dimensions.items()), leg.memo] for leg in draft.legs
    ]
    return hashlib.sha256(json.dumps([draft.currency, legs], default=str).encode()).hexdigest()


class _Poster:
    def __init__(self, chart: Chart, topics: Topics) -> None:
        self._chart = chart
        self._topics = topics

    # -- routing and finalizing ------------------------------------------------------------------
    def _entity(self, scope: PostingScope, what: str) -> str:
        entity = self._chart.entity_for(scope)
        if entity is None:
            raise DeadLetterError(f"no chart routing matches {what} ({scope.model_dump(exclude_none=True)})")
        return entity

    def _finalize(
        self, draft: Draft, entity: str, scope: PostingScope, source: Any, occurred_at: datetime, ctx: Context
    ) -> JournalEntryEvent:
        rates = StoredRates(ctx.state(STORE_RATES), self._chart.entities[entity].max_rate_age_days)
        try:
            return finalize(
                draft,
                chart=self._chart,
                entity_code=entity,
                scope=scope,
                rates=rates,
                source=source,
                occurred_at=occurred_at,
            )
        except (RateNotFoundError, UnbalancedEntryError) as exc:
            raise DeadLetterError(str(exc)) from exc

    # -- orders ------------------------------------------------------------------------------------
    def order(self, event: OrderEvent, ctx: Context) -> list[Outgoing]:
        order = event.order
        scope = PostingScope(channel=order.channel, account=order.account)
        entity_code = self._entity(scope, f"order {order.native_id}")
        entity = self._chart.entities[entity_code]
        key = f"order|{order.order_id}"
        previous: dict[str, Any] | None = ctx.state(STORE_ORDERS).get(key)
        prev_entry = None
        if previous and previous.get("entry"):
            prev_entry = JournalEntryEvent.model_validate(previous["entry"])
        revision = int(previous["revision"]) if previous else 0
        occurred = event.metadata.occurred_at
        cancelled = event.change is OrderChange.CANCELLED or order.cancellation is not None
        if cancelled:
            refunded = order.totals.refunded.amount if order.totals.refunded else 0
            if prev_entry is None or refunded:
                # Refund documents carry the reversal of whatever was refunded before the cancellation.
                return []
            reversal = reverse(
                prev_entry,
                chart=self._chart,
                reason="cancelled",
                source=event.metadata,
                occurred_at=occurred,
                revision=revision,
            )
            state: dict[str, Any] = {"revision": revision, "fingerprint": None, "entry": None}
            return [*self._post([reversal], ctx, occurred), StatePut(STORE_ORDERS, key, state)]
        if entity.sale_trigger is SaleTrigger.FULFILLED and order.fulfillment_status.value not in (
            "FULFILLED",
            "PARTIALLY_FULFILLED",
        ):
            return []
        try:
            draft = sale_draft(order, revision=revision + 1, tolerance=entity.rounding_tolerance)
        except UnbalancedEntryError as exc:
            raise DeadLetterError(str(exc)) from exc
        fingerprint = _fingerprint(draft)
        if previous and previous.get("fingerprint") == fingerprint:
            return []
        first = prev_entry is None
        sale_date = order.placed_at if first and entity.sale_trigger is SaleTrigger.PLACED else occurred
        entry = self._finalize(draft, entity_code, scope, event.metadata, sale_date, ctx)
        entries = [entry]
        if prev_entry is not None:
            entries.insert(
                0,
                reverse(
                    prev_entry,
                    chart=self._chart,
                    reason="order edited",
                    source=event.metadata,
                    occurred_at=occurred,
                    revision=revision,
                ),
            )
        state = {"revision": revision + 1, "fingerprint": fingerprint, "entry": entry.model_dump(mode="json")}
        return [*self._post(entries, ctx, occurred), StatePut(STORE_ORDERS, key, state)]

    # -- payments ----------------------------------------------------------------------------------
    def payment(self, event: PaymentEvent, ctx: Context) -> list[Outgoing]:
        scope = PostingScope(processor=event.processor, account=event.metadata.source.account)
        entity = self._entity(scope, f"{event.processor} {event.kind} {event.processor_reference}")
        occurred = event.processed_at or event.metadata.occurred_at
        ledger = ctx.state(STORE_LEDGER)
        if event.kind is PaymentEventKind.PAYOUT and event.status is TransactionStatus.FAILED:
            posted = ledger.get(f"entry|{entry_id(str(event.payment_id), PAYOUT_RULE)}")
            if posted is None:
                return []
            original = JournalEntryEvent.model_validate(posted)
            reversal = reverse(
                original,
                chart=self._chart,
                reason="payout failed",
                source=event.metadata,
                occurred_at=occurred,
                revision=0,
            )
            return self._post([reversal], ctx, occurred)
        drafts = payment_drafts(event, self._chart.gift_card_methods)
        if event.kind is PaymentEventKind.DISPUTE and any(d.rule == CHARGEBACK_WON_RULE for d in drafts):
            opened = entry_id(chargeback_document(event), CHARGEBACK_RULE)
            if ledger.get(f"posted|{opened}") is None:
                ctx.log.warning("dispute won without a posted chargeback", dispute=chargeback_document(event))
                return []
        entries = [self._finalize(d, entity, scope, event.metadata, occurred, ctx) for d in drafts]
        keep = [
            StatePut(STORE_LEDGER, f"entry|{e.entry_id}", e.model_dump(mode="json"))
            for e in entries
            if e.source_document.type == PAYOUT_RULE.removeprefix("payment.")
        ]
        return [*self._post(entries, ctx, occurred), *keep]

    # -- returns and refunds -------------------------------------------------------------------------
    def return_(self, event: ReturnEvent, ctx: Context) -> list[Outgoing]:
        channel = event.metadata.source.system
        scope = PostingScope(channel=channel, account=event.metadata.source.account)
        entity = self._entity(scope, f"refund {event.native_id}")
        occurred = event.created_at
        drafts: list[Draft] = []
        if event.change is ReturnChange.REFUNDED:
            credit = credit_memo_draft(event)
            if credit is not None:
                drafts.append(credit)
            if self._chart.refund_cash_from(channel) is RefundCashSource.RETURNS:
                cash = refund_cash_draft(event)
                if cash is not None:
                    drafts.append(cash)
        if event.change in (ReturnChange.RECEIVED, ReturnChange.REFUNDED):
            drafts.extend(restock_drafts(event))
        entries = [self._finalize(d, entity, scope, event.metadata, occurred, ctx) for d in drafts]
        return self._post(entries, ctx, occurred)

    # -- the one place entries leave -----------------------------------------------------------------
    def _post(
        self, entries: Sequence[JournalEntryEvent], ctx: Context, occurred_at: datetime
    ) -> list[Outgoing]:
        ledger = ctx.state(STORE_LEDGER)
        out: list[Outgoing] = []
        balances: dict[str, dict[str, list[str]]] = {}
        periods: dict[str, list[str]] = {}
        for entry in entries:
            posted_key = f"posted|{entry.entry_id}"
            if not entry.lines:  # nothing to book (a free order, a zero refund)
                continue
            if ledger.get(posted_key) is not None or any(
                isinstance(o, StatePut) and o.key == posted_key for o in out
            ):
                continue
            period = entry.accounting_period or ""
            key = tb_key(entry.legal_entity, period)
            if key not in balances:
                balances[key] = dict(ledger.get(key) or {})
            apply_entry(balances[key], entry)
            index = periods.setdefault(
                entry.legal_entity, list(ledger.get(periods_key(entry.legal_entity)) or [])
            )
            if period not in index:
                index.append(period)
            out.append(Emit(self._topics.entries, str(entry.entry_id), entry))
            out.append(StatePut(STORE_LEDGER, posted_key, {"entity": entry.legal_entity, "period": period}))
            for movement in movements_of(entry, occurred_at):
                account = settlement_key(movement.processor, movement.merchant_account, movement.currency)
                out.append(Emit(self._topics.settlement, account, movement))
        out += [StatePut(STORE_LEDGER, key, balance) for key, balance in balances.items()]
        out += [
            StatePut(STORE_LEDGER, periods_key(entity), sorted(index)) for entity, index in periods.items()
        ]
        return out

    # -- settlement ------------------------------------------------------------------------------------
    def settle(self, movement: SettlementMovement, ctx: Context) -> list[Outgoing]:
        store = ctx.state(STORE_SETTLEMENT)
        seen = f"seen|{movement.entry_id}|{movement.currency}"
        if store.get(seen) is not None:
            return []
        account = settlement_key(movement.processor, movement.merchant_account, movement.currency)
        state, reconciliation = apply_movement(movement, store.get(f"acct|{account}"))
        out: list[Outgoing] = [
            StatePut(STORE_SETTLEMENT, seen, 1),
            StatePut(STORE_SETTLEMENT, f"acct|{account}", state),
        ]
        if reconciliation is not None:
            out.append(Emit(self._topics.reconciliations, reconciliation.payout_id, reconciliation))
        return out
