"""Refund documents and returns: the credit memo, the cash refunded, the goods back in stock.

credit memo   Dr sales returns & allowances   goods refunded (per line, before tax)
              Dr tax payable                  tax refunded, per jurisdiction
              Dr shipping revenue             shipping refunded (adjustment "shipping")
              Dr sales returns & allowances   other adjustments; money refunded beyond the lines
                  Cr accounts receivable      the total credited to the customer
refund cash   Dr accounts receivable          Cr clearing        (channels whose refund document carries
                                                                  the transactions, see chart `channels`)
restock       Dr inventory                    Cr cost of goods sold   (restocked lines with a known cost)
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from schemas.common.models import DocumentRef
from schemas.ledger import EntrySide
from schemas.returns import RestockDecision, ReturnEvent
from services.ledger_poster.chart import AccountRole
from services.ledger_poster.entries import Draft, Flow, Leg
from services.ledger_poster.rules.sales import tax_jurisdiction

__all__ = [
    "CREDIT_RULE",
    "REFUND_CASH_RULE",
    "RESTOCK_RULE",
    "credit_memo_draft",
    "refund_cash_draft",
    "restock_drafts",
]

CREDIT_RULE = "return.credit-memo"
REFUND_CASH_RULE = "return.refund-cash"
RESTOCK_RULE = "return.restock"


def _base(event: ReturnEvent) -> dict[str, str]:
    return {"order": str(event.order_id), "channel": event.metadata.source.system}


def _currency(event: ReturnEvent) -> str | None:
    if event.refund_total is not None:
        return event.refund_total.currency
    for line in event.lines:
        return line.subtotal.currency
    for adjustment in event.adjustments:
        return adjustment.amount.currency
    for tx in event.transactions:
        return tx.amount.currency
    return None


def credit_memo_draft(event: ReturnEvent) -> Draft | None:
    currency = _currency(event)
    if currency is None:
        return None
    base = _base(event)
    legs: list[Leg] = []
    for line in event.lines:
        dims = {**base, "sku": line.sku} if line.sku else base
        memo = f"Return {line.quantity} x {line.sku or line.order_line_id}"
        legs.append(
            Leg(AccountRole.SALES_RETURNS, EntrySide.DEBIT, line.subtotal.amount, memo=memo, dimensions=dims)
        )
        taxes: dict[str, Decimal] = defaultdict(Decimal)
        if line.tax_lines:
            for tax in line.tax_lines:
                taxes[tax_jurisdiction(tax)] += tax.amount.amount
        elif line.tax.amount:
            taxes[""] += line.tax.amount
        for jurisdiction, amount in sorted(taxes.items()):
            scope = {"jurisdiction": jurisdiction} if jurisdiction else {}
            tax_dims = {**base, "jurisdiction": jurisdiction} if jurisdiction else base
            legs.append(
                Leg(
                    AccountRole.TAX_PAYABLE,
                    EntrySide.DEBIT,
                    amount,
                    memo=f"Tax refunded {jurisdiction}".strip(),
                    dimensions=tax_dims,
                    scope=scope,
                )
            )
    for adjustment in event.adjustments:
        role = AccountRole.SHIPPING_REVENUE if adjustment.kind == "shipping" else AccountRole.SALES_RETURNS
        legs.append(
            Leg(
                role,
                EntrySide.DEBIT,
                adjustment.amount.amount,
                memo=f"Refund {adjustment.kind}",
                dimensions=base,
            )
        )
    credited = sum((leg.amount for leg in legs), Decimal(0))
    refunded = event.refund_total.amount if event.refund_total is not None else credited
    if refunded > credited:
        legs.append(
            Leg(
                AccountRole.SALES_RETURNS,
                EntrySide.DEBIT,
                refunded - credited,
                memo="Refund not attributed to lines",
                dimensions=base,
            )
        )
        credited = refunded
    if credited == 0:
        return None
    legs.append(
        Leg(AccountRole.ACCOUNTS_RECEIVABLE, EntrySide.CREDIT, credited, memo="Credit memo", dimensions=base)
    )
    return Draft(
        rule=CREDIT_RULE,
        document_id=str(event.return_id),
        currency=currency,
        legs=legs,
        source_document=DocumentRef(type="refund", id=str(event.return_id)),
        description=f"Credit memo, refund {event.native_id} of order {event.order_native_id}",
    )


def refund_cash_draft(event: ReturnEvent) -> Draft | None:
    """Cash returned through the refund's own transactions (succeeded ones only)."""
    succeeded = [tx for tx in event.transactions if tx.succeeded and tx.amount.amount != 0]
    if not succeeded:
        return None
    base = _base(event)
    legs: list[Leg] = []
    for tx in succeeded:
        processor = tx.processor or "unknown"
        dims = {**base, "processor": processor, "merchant_account": event.metadata.source.account}
        memo = f"Refund {processor} {tx.processor_reference or ''}".strip()
        legs.append(
            Leg(
                AccountRole.ACCOUNTS_RECEIVABLE, EntrySide.DEBIT, tx.amount.amount, memo=memo, dimensions=dims
            )
        )
        legs.append(
            Leg(
                AccountRole.CLEARING,
                EntrySide.CREDIT,
                tx.amount.amount,
                memo=memo,
                dimensions=dims,
                scope={"processor": processor},
                flow=Flow.REFUND,
            )
        )
    return Draft(
        rule=REFUND_CASH_RULE,
        document_id=str(event.return_id),
        currency=succeeded[0].amount.currency,
        legs=legs,
        source_document=DocumentRef(type="refund", id=str(event.return_id)),
        description=f"Refund paid, refund {event.native_id} of order {event.order_native_id}",
    )


def restock_drafts(event: ReturnEvent) -> list[Draft]:
    """Inventory back at cost for restocked lines whose unit cost is known (one draft per currency)."""
    by_currency: dict[str, list[Leg]] = defaultdict(list)
    base = _base(event)
    for line in event.lines:
        if line.restock is not RestockDecision.RETURN_TO_STOCK or line.unit_cost is None:
            continue
        cost = line.unit_cost.amount * line.quantity
        dims = {**base, "sku": line.sku} if line.sku else base
        if line.restock_location:
            dims = {**dims, "location": line.restock_location}
        memo = f"Restock {line.quantity} x {line.sku or line.order_line_id}"
        legs = by_currency[line.unit_cost.currency]
        legs.append(Leg(AccountRole.INVENTORY, EntrySide.DEBIT, cost, memo=memo, dimensions=dims))
        legs.append(Leg(AccountRole.COGS, EntrySide.CREDIT, cost, memo=memo, dimensions=dims))
    return [
        Draft(
            rule=f"{RESTOCK_RULE}:{currency}",
            document_id=str(event.return_id),
            currency=currency,
            legs=legs,
            source_document=DocumentRef(type="return", id=str(event.return_id)),
            description=f"Restock, return {event.native_id} of order {event.order_native_id}",
        )
        for currency, legs in sorted(by_currency.items())
    ]
