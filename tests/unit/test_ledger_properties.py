"""Property tests: random orders, partial captures, fees, partial/full refunds, chargebacks and payouts
in several currencies, over three partitions.

Whatever the sequence: every entry balances in transaction and functional currency, the trial balance
nets to zero per currency (entity and period), AR per order is zero once the order is paid (refunds
matched by credit memos), every payout reconciles to zero difference, and replaying the whole input
posts nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.common.models import Money
from schemas.ledger import EntrySide, JournalEntryEvent, ReconciliationStatus
from schemas.payments import (
    PaymentEvent,
    PaymentEventKind,
    PayoutDetails,
)
from services.ledger_poster.handler import STORE_LEDGER
from services.ledger_poster.money import convert, minor_quantum
from services.ledger_poster.trial_balance import combine, net_by_currency, tb_key
from tests.ledger_scenarios import START, Plan, build, fix_keys, plans
from tests.unit.ledger_support import TOPICS, Driver, fx_rate, meta

pytestmark = pytest.mark.unit


def _assert_balanced(entry: JournalEntryEvent) -> None:
    for functional in (False, True):
        dr = sum(
            (
                ln.functional_amount.amount if functional else ln.amount.amount
                for ln in entry.lines
                if ln.side is EntrySide.DEBIT
            ),
            Decimal(0),
        )
        cr = sum(
            (
                ln.functional_amount.amount if functional else ln.amount.amount
                for ln in entry.lines
                if ln.side is EntrySide.CREDIT
            ),
            Decimal(0),
        )
        assert dr == cr, (entry.entry_id, functional, dr, cr)
    for line in entry.lines:
        if line.memo == "functional-currency rounding":
            assert line.amount.amount == 0
            assert line.functional_amount.amount <= minor_quantum(entry.functional_currency) * len(
                entry.lines
            )
        elif line.exchange_rate is None:
            assert line.functional_amount.amount == line.amount.amount
        else:
            assert line.functional_amount.amount == convert(
                line.amount.amount, line.exchange_rate, entry.functional_currency
            )
    currencies = {ln.amount.currency for ln in entry.lines}
    assert len(currencies) == 1
    assert {ln.functional_amount.currency for ln in entry.lines} == {entry.functional_currency}


rates = st.fixed_dictionaries(
    {
        "USD": st.decimals("0.9", "1.3", places=4),
        "GBP": st.decimals("0.8", "0.9", places=4),
        "JPY": st.decimals("140", "170", places=2),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans=st.lists(plans, min_size=1, max_size=6), fx=rates, order=st.randoms(use_true_random=False))
def test_random_ledgers_balance_and_settle(plans: list[Plan], fx: dict[str, Decimal], order: Any) -> None:
    driver = Driver(partitions=3)
    for quote, rate in fx.items():
        driver.feed(TOPICS.rates, f"EUR/{quote}", fx_rate("EUR", quote, str(rate), START.date()))

    events: list[tuple[str, str, Any]] = []
    expectations = []
    for n, plan in enumerate(plans):
        evs, expect = build(plan, n, day=0)
        events += fix_keys(evs)
        expectations.append(expect)
    order.shuffle(events)
    for topic, key, value in events:
        driver.feed(topic, key, value)

    # Pay out every settlement account's balance a day later: each payout must reconcile exactly.
    clearing: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for entry in driver.entries:
        for line in entry.lines:
            if "flow" in line.dimensions:
                signed = line.amount.amount if line.side is EntrySide.DEBIT else -line.amount.amount
                clearing[
                    (line.dimensions["processor"], line.dimensions["merchant_account"], line.amount.currency)
                ] += signed
    payouts = []
    for i, ((processor, merchant, cur), balance) in enumerate(sorted(clearing.items())):
        if balance <= 0:
            continue
        at = START + timedelta(days=2)
        payouts.append(
            PaymentEvent(
                metadata=meta("payout.paid", at, processor, merchant, "payout", f"po-{i}"),
                kind=PaymentEventKind.PAYOUT,
                payment_id=uuid.uuid5(uuid.NAMESPACE_URL, f"po-{i}"),
                transaction_id=uuid.uuid5(uuid.NAMESPACE_URL, f"po-tx-{i}"),
                processor=processor,
                processor_reference=f"po-{i}",
                amount=Money(amount=balance, currency=cur),
                payout=PayoutDetails(payout_reference=f"po-{i}", status="paid"),
                processed_at=at,
            )
        )
    for payout in payouts:
        driver.feed(TOPICS.payments, str(payout.payment_id), payout)

    # 1. every entry balances, in transaction and functional currency; ids are unique
    for entry in driver.entries:
        _assert_balanced(entry)
        per_eur = {"EUR": Decimal(1), **fx}
        currency = entry.lines[0].amount.currency
        expected_rate = (per_eur[entry.functional_currency] / per_eur[currency]).quantize(
            Decimal("1e-10"), ROUND_HALF_UP
        )
        assert {ln.exchange_rate for ln in entry.lines} == {
            None if currency == entry.functional_currency else expected_rate
        }
    ids = Counter(e.entry_id for e in driver.entries)
    assert all(count == 1 for count in ids.values())

    # 2. the trial balance (summed over partitions) nets to zero per currency, per entity and period
    for entity, period in {(e.legal_entity, e.accounting_period or "") for e in driver.entries}:
        balance = combine(driver.store_values(STORE_LEDGER, tb_key(entity, period)))
        assert balance
        assert set(net_by_currency(balance).values()) == {Decimal(0)}

    # 3. AR per order returns to zero: paid in full, refunds matched by credit memos
    ar: dict[str, Decimal] = defaultdict(Decimal)
    for entry in driver.entries:
        for line in entry.lines:
            if line.account == "1100":
                signed = line.amount.amount if line.side is EntrySide.DEBIT else -line.amount.amount
                ar[line.dimensions["order"]] += signed
    for expect in expectations:
        assert ar[expect["order"]] == 0, expect

    # 4. every payout reconciles with no difference
    assert len(driver.reconciliations) == len(payouts)
    for rec in driver.reconciliations:
        assert rec.status is ReconciliationStatus.MATCHED, rec
        assert rec.difference.amount == 0

    # 5. a replay of everything posts nothing
    posted = len(driver.entries)
    for topic, key, value in events:
        driver.feed(topic, key, value)
    for payout in payouts:
        driver.feed(TOPICS.payments, str(payout.payment_id), payout)
    assert len(driver.entries) == posted
