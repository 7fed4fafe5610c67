"""The sale (invoice) of an order: AR against net revenue, shipping revenue and tax per jurisdiction.

    Dr  accounts receivable      order total (what the customer owes)
        Cr  revenue              per line: quantity x unit price - line discounts (- tax if tax-inclusive)
        Cr  shipping revenue     per shipping line, after its discounts (- tax if tax-inclusive)
        Cr  tax payable          per jurisdiction (tax title when the source names none)
    Dr  revenue                  order-level discount not allocated to any line
    Dr/Cr rounding               a source-total difference up to the entity's tolerance

A larger difference means the source figures do not add up: the order is refused, not guessed.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from schemas.common.models import DocumentRef, TaxLine
from schemas.ledger import EntrySide
from schemas.orders import Order
from services.ledger_poster.chart import AccountRole
from services.ledger_poster.entries import Draft, Leg, UnbalancedEntryError
from services.ledger_poster.money import quantize

__all__ = ["SALE_RULE", "sale_draft", "tax_jurisdiction"]

SALE_RULE = "order.sale"


def tax_jurisdiction(tax: TaxLine) -> str:
    return tax.jurisdiction or tax.title


def sale_draft(order: Order, *, revision: int, tolerance: Decimal) -> Draft:
    currency = order.shop_currency
    base = {"order": str(order.order_id), "channel": order.channel}
    legs: list[Leg] = [
        Leg(
            AccountRole.ACCOUNTS_RECEIVABLE,
            EntrySide.DEBIT,
            quantize(order.totals.total.amount, currency),
            memo=f"Order {order.display_number or order.native_id}",
            dimensions=base,
        )
    ]
    taxes: dict[str, Decimal] = defaultdict(Decimal)
    allocated = Decimal(0)
    for line in order.lines:
        discount = sum((a.amount.amount for a in line.discount_allocations), Decimal(0))
        allocated += discount
        line_tax = sum((t.amount.amount for t in line.tax_lines), Decimal(0))
        net = line.unit_price.amount * line.quantity - discount
        if order.taxes_included:
            net -= line_tax
        dims = {**base, "sku": line.sku} if line.sku else base
        revenue = quantize(net, currency)
        legs.append(Leg(AccountRole.REVENUE, EntrySide.CREDIT, revenue, memo=line.title, dimensions=dims))
        for tax in line.tax_lines:
            taxes[tax_jurisdiction(tax)] += tax.amount.amount
    for shipping in order.shipping_lines:
        discount = sum((a.amount.amount for a in shipping.discount_allocations), Decimal(0))
        allocated += discount
        price = (
            shipping.discounted_price.amount
            if shipping.discounted_price is not None
            else shipping.price.amount - discount
        )
        ship_tax = sum((t.amount.amount for t in shipping.tax_lines), Decimal(0))
        if order.taxes_included:
            price -= ship_tax
        legs.append(
            Leg(
                AccountRole.SHIPPING_REVENUE,
                EntrySide.CREDIT,
                quantize(price, currency),
                memo=shipping.title,
                dimensions=base,
            )
        )
        for tax in shipping.tax_lines:
            taxes[tax_jurisdiction(tax)] += tax.amount.amount
    unallocated = quantize(order.totals.discounts.amount - allocated, currency)
    if unallocated > 0:
        legs.append(
            Leg(AccountRole.REVENUE, EntrySide.DEBIT, unallocated, memo="Order discount", dimensions=base)
        )
    for jurisdiction, amount in sorted(taxes.items()):
        legs.append(
            Leg(
                AccountRole.TAX_PAYABLE,
                EntrySide.CREDIT,
                quantize(amount, currency),
                memo=jurisdiction,
                dimensions={**base, "jurisdiction": jurisdiction},
                scope={"jurisdiction": jurisdiction},
            )
        )
    difference = _net(legs)
    if difference != 0:
        if abs(difference) > tolerance:
            raise UnbalancedEntryError(
                f"order {order.native_id}: total {order.totals.total.amount} {currency} differs from lines, "
                f"shipping, discounts and tax by {difference} (tolerance {tolerance})"
            )
        legs.append(
            Leg(AccountRole.ROUNDING, EntrySide.CREDIT, difference, memo="Source rounding", dimensions=base)
        )
    return Draft(
        rule=SALE_RULE,
        document_id=str(order.order_id),
        currency=currency,
        legs=legs,
        source_document=DocumentRef(type="order", id=str(order.order_id)),
        description=f"Sale {order.channel} order {order.display_number or order.native_id}",
        revision=revision,
    )


def _net(legs: list[Leg]) -> Decimal:
    """Debits minus credits."""
    return sum((leg.amount if leg.side is EntrySide.DEBIT else -leg.amount for leg in legs), Decimal(0))
