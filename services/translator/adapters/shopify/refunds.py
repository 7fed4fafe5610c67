"""Shopify refunds (``refunds/create`` body, ``{"refund": ...}`` or ``{"refunds": [...]}``) -> ReturnEvent.

Line amounts are in the shop currency (``subtotal_set.shop_money``; the plain ``subtotal`` is a JSON
number). Refund transactions keep their own currency, the one the buyer paid in. Legacy refunds
have no line subtotal: it is derived from the refunded line item's price, discount and taxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from schemas.common.models import Money
from schemas.returns.models import (
    RefundAdjustment,
    RefundTransaction,
    RestockDecision,
    ReturnChange,
    ReturnEvent,
    ReturnLine,
)
from services.translator.adapters._common import (
    canonical,
    currency,
    currency_or_header,
    document,
    location_code,
    quantity,
    route,
    unwrap,
)
from services.translator.adapters.shopify._shared import SYSTEM, money_pair
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode
from services.translator.metadata import event_metadata

__all__ = ["translate_refunds"]

RESTOCK = {
    "no_restock": RestockDecision.NO_RESTOCK,
    "cancel": RestockDecision.CANCEL,
    "return": RestockDecision.RETURN_TO_STOCK,
    "legacy_restock": RestockDecision.RETURN_TO_STOCK,
}
_CENT = Decimal("0.01")


@route
def translate_refunds(record: IngressRecord) -> Sequence[ReturnEvent]:
    return [_refund(record, node) for node in unwrap(document(record), "refund", "refunds")]


def _refund(record: IngressRecord, node: JsonNode) -> ReturnEvent:
    native_id = node["id"].text()
    order_native = node["order_id"].text()
    shop = _shop_currency(record, node)
    created_at = node["created_at"].timestamp()
    # Before restock_type existed, one refund-level flag said whether the goods went back to stock.
    restocked = node["restock"].opt_boolean()
    legacy_restock = RestockDecision.UNKNOWN
    if restocked is not None:
        legacy_restock = RestockDecision.RETURN_TO_STOCK if restocked else RestockDecision.NO_RESTOCK
    transactions = [_transaction(txn, shop) for txn in node["transactions"].items() if _is_refund(txn)]
    succeeded = [t.amount for t in transactions if t.succeeded]
    refund_total = None
    if succeeded and all(m.currency == succeeded[0].currency for m in succeeded):
        refund_total = Money(
            amount=sum((m.amount for m in succeeded), Decimal(0)), currency=succeeded[0].currency
        )
    metadata = event_metadata(
        record, event_type="return.refunded", entity="refund", native_id=native_id, occurred_at=created_at
    )
    return ReturnEvent(
        metadata=metadata,
        change=ReturnChange.REFUNDED,
        return_id=canonical(record, "refund", native_id),
        order_id=canonical(record, "order", order_native),
        native_id=native_id,
        order_native_id=order_native,
        note=node["note"].opt_text(),
        lines=[_line(line, shop, legacy_restock) for line in node["refund_line_items"].items()],
        adjustments=[_adjustment(adj, shop) for adj in node["order_adjustments"].items()],
        refund_total=refund_total,
        transactions=transactions,
        created_at=created_at,
    )


def _shop_currency(record: IngressRecord, node: JsonNode) -> str:
    """The shop currency: from any ``*_set.shop_money``, else the ingress header, else the
    first transaction (legacy single-currency shops)."""
    for line in node["refund_line_items"].items():
        shop_money = line.path_get("subtotal_set", "shop_money", "currency_code")
        if shop_money.is_present:
            return currency(shop_money)
    first = node.path_get("transactions", 0, "currency")
    return currency_or_header(JsonNode(None, first.path) if record.shop_currency else first, record)


def _is_refund(txn: JsonNode) -> bool:
    return (txn["kind"].opt_text() or "refund") == "refund"


def _transaction(txn: JsonNode, shop: str) -> RefundTransaction:
    code = currency(txn["currency"]) if txn["currency"].is_present else shop
    return RefundTransaction(
        processor=txn["gateway"].opt_text(),
        processor_reference=txn["id"].opt_text(),
        amount=money_pair(txn, "amount", code)[0],
        succeeded=(txn["status"].opt_text() or "success") == "success",
    )


def _line(node: JsonNode, shop: str, legacy_restock: RestockDecision) -> ReturnLine:
    units = quantity(node["quantity"])
    if units < 0:
        raise TranslationError(node["quantity"].path, "a positive quantity", units)
    item = node["line_item"]
    if node["subtotal_set"].is_present or node["subtotal"].is_present:
        subtotal = money_pair(node, "subtotal", shop)[0]
        tax = money_pair(node, "total_tax", shop)[0]
    else:
        subtotal, tax = _derived_amounts(item, units, shop)
    location = node["location_id"].opt_text()
    return ReturnLine(
        order_line_id=node["line_item_id"].text(),
        sku=item["sku"].opt_text(),
        quantity=units,
        restock=RESTOCK.get(node["restock_type"].opt_text() or "", legacy_restock),
        restock_location=location_code(SYSTEM, location) if location else None,
        subtotal=subtotal,
        tax=tax,
    )


def _derived_amounts(item: JsonNode, units: int, shop: str) -> tuple[Money, Money]:
    """Pre-2019 refunds: the refunded share of the line's discounted price and of its taxes,
    rounded half-even to cents as Shopify does."""
    ordered = quantity(item["quantity"])
    if ordered <= 0:
        raise TranslationError(item["quantity"].path, "a positive ordered quantity", ordered)
    share = Decimal(units) / Decimal(ordered)
    price = money_pair(item, "price", shop)[0].amount
    discount = Decimal(0)
    if item["total_discount"].is_present:
        discount = money_pair(item, "total_discount", shop)[0].amount
    taxes = sum((money_pair(t, "price", shop)[0].amount for t in item["tax_lines"].items()), Decimal(0))
    subtotal = ((price * ordered - discount) * share).quantize(_CENT, rounding=ROUND_HALF_EVEN)
    tax = (taxes * share).quantize(_CENT, rounding=ROUND_HALF_EVEN)
    return Money(amount=subtotal, currency=shop), Money(amount=tax, currency=shop)


def _adjustment(node: JsonNode, shop: str) -> RefundAdjustment:
    """Shopify books a refunded shipping charge as a negative adjustment: flip it to "money back"."""
    value = money_pair(node, "amount", shop)[0].amount
    tax = money_pair(node, "tax_amount", shop)[0].amount if node["tax_amount"].is_present else Decimal(0)
    return RefundAdjustment(
        kind=node["kind"].opt_text() or "adjustment",
        amount=Money(amount=-(value + tax), currency=shop),
        reason=node["reason"].opt_text(),
    )
