"""WooCommerce order refunds (``/orders/<id>/refunds`` list or single object) -> ReturnEvent.

The refund ``amount`` is a positive string, its lines are negative; the object names neither its
order (taken from ``_links.up``) nor its currency (the ``esb-shop-currency`` ingress header).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from schemas.common.models import Money
from schemas.returns.models import RefundAdjustment, RefundTransaction, ReturnChange, ReturnEvent, ReturnLine
from services.translator.adapters._common import (
    amount,
    canonical,
    currency_or_header,
    document,
    money,
    quantity,
    route,
    unwrap,
)
from services.translator.adapters.woocommerce._shared import utc
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode
from services.translator.metadata import event_metadata

__all__ = ["translate_refunds"]

_ORDER_IN_LINK = re.compile(r"/orders/([0-9]+)(?:/|$)")


@route
def translate_refunds(record: IngressRecord) -> Sequence[ReturnEvent]:
    return [_refund(record, node) for node in unwrap(document(record), "refund", "refunds")]


def _refund_order(node: JsonNode) -> str:
    """The refund object does not name its order; ``_links.up`` does (``.../orders/723``)."""
    for key in ("order_id", "parent_id"):
        if node[key].is_present:
            return node[key].text()
    link = node.path_get("_links", "up", 0, "href")
    match = _ORDER_IN_LINK.search(link.opt_text() or "")
    if not match:
        raise TranslationError(link.path, "a link to /orders/<id> (or order_id)", link.value)
    return match.group(1)


def _refund(record: IngressRecord, node: JsonNode) -> ReturnEvent:
    native_id = node["id"].text()
    order_native = _refund_order(node)
    code = currency_or_header(node["currency"], record)
    total = money(node["amount"], code)
    lines = [_refund_line(line, code) for line in node["line_items"].items()]
    allocated = sum((ln.subtotal.amount + ln.tax.amount for ln in lines), Decimal(0))
    # The part of the amount not explained by lines (shipping, fees, a manual amount).
    rest = total.amount - allocated
    created_at = utc(node, "date_created").timestamp(naive_is_utc=True)
    metadata = event_metadata(
        record, event_type="return.refunded", entity="refund", native_id=native_id, occurred_at=created_at
    )
    paid_back = bool(node["refunded_payment"].opt_boolean(False))
    return ReturnEvent(
        metadata=metadata,
        change=ReturnChange.REFUNDED,
        return_id=canonical(record, "refund", native_id),
        order_id=canonical(record, "order", order_native),
        native_id=native_id,
        order_native_id=order_native,
        reason=node["reason"].opt_text(),
        lines=lines,
        adjustments=[RefundAdjustment(kind="unallocated", amount=Money(amount=rest, currency=code))]
        if rest
        else [],
        refund_total=total,
        # refunded_payment=false: the merchant refunded outside the gateway (manual refund).
        transactions=[RefundTransaction(amount=total)] if paid_back else [],
        created_at=created_at,
    )


def _refund_line(node: JsonNode, code: str) -> ReturnLine:
    """Refund lines are negative in WooCommerce; canonical return lines are positive."""
    refunded_item = next(
        (m["value"].text() for m in node["meta_data"].items() if m["key"].opt_text() == "_refunded_item_id"),
        None,
    )
    return ReturnLine(
        order_line_id=refunded_item or node["id"].text(),
        sku=node["sku"].opt_text(),
        quantity=abs(quantity(node["quantity"])),
        subtotal=Money(amount=-amount(node["total"]), currency=code),
        tax=Money(amount=-amount(node["total_tax"]), currency=code),
    )
