"""Random order lives for the ledger poster's property and crash tests: orders, partial captures with fees,
chargebacks, partial and full refunds, in several currencies and both default entities."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from schemas.common.models import DiscountAllocation, Money, TaxLine
from schemas.orders import Order, OrderChange, OrderEvent, OrderLine, OrderTotals, ShippingLine
from schemas.payments import DisputeDetails, DisputeStatus, PaymentEvent, PaymentEventKind, ProcessorFee
from schemas.returns import RefundAdjustment, RefundTransaction, ReturnChange, ReturnEvent, ReturnLine
from services.ledger_poster.money import minor_quantum
from tests.unit.ledger_support import TOPICS, meta

CURRENCIES = ("USD", "EUR", "GBP", "JPY")
START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
# channel -> (processor, merchant account); shopify books in US01, adyen in EU01 (default chart)
CHANNELS = {"shopify": ("stripe", "acct_1"), "adyen": ("adyen", "Merchant_EU")}


def money(minor: int, currency: str) -> Money:
    return Money(amount=Decimal(minor) * minor_quantum(currency), currency=currency)


@dataclass
class Plan:
    channel: str
    currency: str
    lines: list[tuple[int, int, int, int]]  # quantity, unit price, discount, tax (minor units)
    shipping: tuple[int, int]  # price, tax
    captures: list[int]  # fractions (per mille) of the total, partial captures
    fee_permille: int
    refund: str  # none | partial | full
    refund_permille: int
    chargeback: bool


plans = st.builds(
    Plan,
    channel=st.sampled_from(sorted(CHANNELS)),
    currency=st.sampled_from(CURRENCIES),
    lines=st.lists(
        st.tuples(st.integers(1, 3), st.integers(1, 50_000), st.integers(0, 500), st.integers(0, 3_000)),
        min_size=1,
        max_size=3,
    ),
    shipping=st.tuples(st.integers(0, 2_000), st.integers(0, 200)),
    captures=st.lists(st.integers(1, 1000), min_size=1, max_size=3),
    fee_permille=st.integers(0, 60),
    refund=st.sampled_from(["none", "partial", "full"]),
    refund_permille=st.integers(1, 999),
    chargeback=st.booleans(),
)


def _split(total: int, weights: list[int]) -> list[int]:
    parts = [total * w // sum(weights) for w in weights]
    parts[-1] += total - sum(parts)
    return [p for p in parts if p > 0]


def build(plan: Plan, n: int, day: int) -> tuple[list[tuple[str, str, Any]], dict[str, Any]]:
    """The events of one order's life and what the order's AR must end at (0 when settled)."""
    cur = plan.currency
    processor, merchant = CHANNELS[plan.channel]
    at = START + timedelta(days=day, minutes=n)
    order_id = uuid.uuid5(uuid.NAMESPACE_URL, f"order-{n}")
    lines, gross_total, tax_total, disc_total = [], 0, 0, 0
    for i, (qty, price, disc, tax) in enumerate(plan.lines):
        disc = min(disc, qty * price)
        lines.append(
            OrderLine(
                line_id=f"{n}-{i}",
                sku=f"SKU-{i}",
                title=f"Item {i}",
                quantity=qty,
                unit_price=money(price, cur),
                discount_allocations=[DiscountAllocation(amount=money(disc, cur))] if disc else [],
                tax_lines=[TaxLine(title="VAT", jurisdiction=f"J{i % 2}", amount=money(tax, cur))]
                if tax
                else [],
            )
        )
        gross_total += qty * price - disc
        tax_total += tax
        disc_total += disc
    ship_price, ship_tax = plan.shipping
    shipping = [
        ShippingLine(
            title="Ship",
            price=money(ship_price, cur),
            tax_lines=[TaxLine(title="VAT", jurisdiction="J0", amount=money(ship_tax, cur))]
            if ship_tax
            else [],
        )
    ]
    total = gross_total + ship_price + tax_total + ship_tax
    order = Order(
        order_id=order_id,
        channel=plan.channel,
        account="acct",
        native_id=str(n),
        placed_at=at,
        lines=lines,
        shipping_lines=shipping,
        shop_currency=cur,
        totals=OrderTotals(
            subtotal=money(gross_total, cur),
            discounts=money(disc_total, cur),
            shipping=money(ship_price, cur),
            tax=money(tax_total + ship_tax, cur),
            total=money(total, cur),
        ),
    )
    events: list[tuple[str, str, Any]] = [
        (
            TOPICS.orders,
            str(order_id),
            OrderEvent(
                metadata=meta("order.placed", at, plan.channel, "acct", "order", str(n)),
                change=OrderChange.PLACED,
                order=order,
            ),
        )
    ]

    def payment(kind: PaymentEventKind, ref: str, minor: int, **extra: Any) -> PaymentEvent:
        return PaymentEvent(
            metadata=meta(f"payment.{kind.lower()}", at, processor, merchant, "transaction", ref),
            kind=kind,
            payment_id=uuid.uuid5(order_id, "payment"),
            transaction_id=uuid.uuid5(order_id, ref),
            processor=processor,
            processor_reference=ref,
            order_id=order_id,
            amount=money(minor, cur),
            processed_at=at + timedelta(minutes=1),
            **extra,
        )

    for j, part in enumerate(_split(total, plan.captures)):
        fee = part * plan.fee_permille // 1000
        fees = [ProcessorFee(type="processing", amount=money(fee, cur))] if fee else []
        events.append(
            (TOPICS.payments, "p", payment(PaymentEventKind.CAPTURE, f"cap-{n}-{j}", part, fees=fees))
        )
    if plan.chargeback and total:
        dispute = DisputeDetails(dispute_reference=f"dp-{n}", status=DisputeStatus.NEEDS_RESPONSE)
        cb_fee = [ProcessorFee(type="chargeback", amount=money(1500 if cur != "JPY" else 15, cur))]
        events.append(
            (
                TOPICS.payments,
                "p",
                payment(PaymentEventKind.DISPUTE, f"cb-{n}", total, dispute=dispute, fees=cb_fee),
            )
        )
    refund_minor = {"none": 0, "partial": total * plan.refund_permille // 1000, "full": total}[plan.refund]
    if refund_minor:
        return_id = uuid.uuid5(order_id, "refund")
        tx = [
            RefundTransaction(
                processor=processor, processor_reference=f"re-{n}", amount=money(refund_minor, cur)
            )
        ]
        if plan.refund == "full":
            goods = [
                ReturnLine(
                    order_line_id=ln.line_id,
                    sku=ln.sku,
                    quantity=ln.quantity,
                    subtotal=Money(
                        amount=ln.unit_price.amount * ln.quantity
                        - sum((a.amount.amount for a in ln.discount_allocations), Decimal(0)),
                        currency=cur,
                    ),
                    tax=Money(amount=sum((t.amount.amount for t in ln.tax_lines), Decimal(0)), currency=cur),
                    tax_lines=ln.tax_lines,
                )
                for ln in lines
            ]
            adjustments = [RefundAdjustment(kind="shipping", amount=money(ship_price + ship_tax, cur))]
        else:
            goods, adjustments = [], [RefundAdjustment(kind="discrepancy", amount=money(refund_minor, cur))]
        ret = ReturnEvent(
            metadata=meta("refund.created", at, plan.channel, "acct", "refund", f"r{n}"),
            change=ReturnChange.REFUNDED,
            return_id=return_id,
            order_id=order_id,
            native_id=f"r{n}",
            order_native_id=str(n),
            lines=goods,
            adjustments=adjustments,
            refund_total=money(refund_minor, cur),
            transactions=tx,
            created_at=at + timedelta(minutes=2),
        )
        events.append((TOPICS.returns, str(return_id), ret))
        if plan.channel != "shopify":  # the processor's refund carries the cash for non-Shopify channels
            events.append((TOPICS.payments, "p", payment(PaymentEventKind.REFUND, f"re-{n}", refund_minor)))
    return events, {"order": str(order_id), "currency": cur}


def fix_keys(events: list[tuple[str, str, Any]]) -> list[tuple[str, str, Any]]:
    return [(t, str(v.payment_id) if isinstance(v, PaymentEvent) else k, v) for t, k, v in events]


def random_plan(rng: random.Random) -> Plan:
    """A plan drawn from ``rng`` (the crash test's deterministic feed)."""
    return Plan(
        channel=rng.choice(sorted(CHANNELS)),
        currency=rng.choice(CURRENCIES),
        lines=[
            (rng.randint(1, 3), rng.randint(1, 50_000), rng.randint(0, 500), rng.randint(0, 3_000))
            for _ in range(rng.randint(1, 3))
        ],
        shipping=(rng.randint(0, 2_000), rng.randint(0, 200)),
        captures=[rng.randint(1, 1000) for _ in range(rng.randint(1, 3))],
        fee_permille=rng.randint(0, 60),
        refund=rng.choice(["none", "partial", "full"]),
        refund_permille=rng.randint(1, 999),
        chargeback=rng.random() < 0.2,
    )
