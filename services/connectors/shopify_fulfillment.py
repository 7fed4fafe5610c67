"""Shopify fulfillments: order line items -> fulfillment order line items, from the probe's answer.

The egress document names the shipped *order* line items (``fulfillment.line_items: [{id,
quantity}]``): Shopify's fulfillment order ids exist only in Shopify. Its probe is
``GET /admin/api/<v>/orders/<id>/fulfillment_orders.json``; from that answer this module builds the
2024-04 request ``{"fulfillment": {line_items_by_fulfillment_order: [{fulfillment_order_id,
fulfillment_order_line_items: [{id, quantity}]}], tracking_info, notify_customer, ...}}``, taking
each line's units from the open fulfillment order line items that still have
``fulfillable_quantity``, lowest ids first (deterministic).

Shopify's REST fulfillments take no idempotency key. The remaining quantity is the check: when
every shipped line is fully fulfilled already (its fulfillment orders closed or with nothing left),
an earlier attempt (or a person) did it and the document counts as delivered. Anything else that
does not fit (a line on no fulfillment order, fewer units fulfillable than shipped, fulfillment
orders on hold, scheduled or cancelled, some lines done and others not) is rejected with the
numbers (-> DLQ; replay once Shopify's side is sorted out). A shipment sent but not acknowledged
(a timeout, a crash before the offset commit) whose lines still have units left would pass that
check, so before resolving, the order's fulfillments are read
(``GET .../orders/<id>/fulfillments.json``): one that is not cancelled or failed and carries the
document's tracking number means an earlier attempt went through. A shipment without a tracking
number has only the quantity check.
"""

from __future__ import annotations

import json
from typing import Any

from services.connectors.classify import Delivered, Outcome, Rejected, Retry, classify

__all__ = ["DOCUMENT_TYPE", "fulfillments_path", "resolve", "sent_before"]

DOCUMENT_TYPE = "shopify.fulfillment"
_FULFILLABLE = frozenset({"open", "in_progress"})


_VOID = frozenset({"cancelled", "error", "failure"})  # fulfillment statuses that fulfilled nothing


def fulfillments_path(probe_path: str) -> str:
    """The order's fulfillments, next to its fulfillment orders (the probe)."""
    return probe_path.replace("/fulfillment_orders.json", "/fulfillments.json")


def sent_before(document: bytes, status: int, answer: bytes) -> Outcome | None:
    """``Delivered`` when the order already has a live fulfillment with the document's tracking
    number; ``None`` when it has none (or the document has no number); the usual outcome of an
    unsuccessful read."""
    if status != 200:
        return classify(status, answer)
    try:
        number = (json.loads(document)["fulfillment"].get("tracking_info") or {}).get("number")
        fulfillments: list[dict[str, Any]] = json.loads(answer)["fulfillments"]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        return Retry(f"unreadable fulfillments: {type(error).__name__}")
    if not number:
        return None
    for fulfillment in fulfillments:
        numbers = {fulfillment.get("tracking_number"), *(fulfillment.get("tracking_numbers") or [])}
        if number in numbers and fulfillment.get("status") not in _VOID:
            return Delivered(status, already=True)
    return None


def resolve(document: bytes, status: int, answer: bytes) -> bytes | Outcome:
    """The request body to send, or the outcome when there is nothing (right) to send."""
    if status != 200:
        return classify(status, answer)
    try:
        lines_of = _lines_by_order_line(json.loads(answer)["fulfillment_orders"])
    except (ValueError, KeyError, TypeError) as error:
        return Retry(f"probe answered unreadable fulfillment orders: {type(error).__name__}")
    try:
        fulfillment: dict[str, Any] = json.loads(document)["fulfillment"]
        wanted: list[dict[str, int]] = fulfillment.pop("line_items")
    except (ValueError, KeyError, TypeError) as error:
        return Rejected(0, f"not an egress Shopify fulfillment document: {type(error).__name__}")
    grouped: dict[int, list[dict[str, int]]] = {}
    problems: list[str] = []
    done = 0
    for line in wanted:
        found = lines_of.get(line["id"], [])
        blocked = sorted({state for state, *_ in found if state not in _FULFILLABLE | {"closed"}})
        open_lines = [
            (fo, item, left) for state, fo, item, left in found if state in _FULFILLABLE and left > 0
        ]
        available = sum(left for _, _, left in open_lines)
        if not found:
            problems.append(f"line item {line['id']} is on no fulfillment order")
        elif available == 0 and not blocked:
            done += 1  # fulfilled: closed or nothing left to fulfil
        elif available < line["quantity"]:
            why = f" (fulfillment orders {', '.join(blocked)})" if blocked else ""
            problems.append(
                f"line item {line['id']}: {line['quantity']} shipped, {available} fulfillable{why}"
            )
        else:
            need = line["quantity"]
            for order_id, item_id, left in open_lines:
                take = min(need, left)
                if take:
                    grouped.setdefault(order_id, []).append({"id": item_id, "quantity": take})
                    need -= take
    if done == len(wanted):
        return Delivered(status, already=True)  # fulfilled by an earlier attempt (or by hand)
    if problems or done:
        detail = "; ".join(problems) or f"{done} of {len(wanted)} line items already fulfilled"
        return Rejected(0, f"Shopify fulfillment orders do not match the shipment: {detail}")
    body = {
        "fulfillment": {
            "line_items_by_fulfillment_order": [
                {"fulfillment_order_id": order_id, "fulfillment_order_line_items": items}
                for order_id, items in grouped.items()
            ],
            **fulfillment,
        }
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _lines_by_order_line(orders: list[dict[str, Any]]) -> dict[int, list[tuple[str, int, int, int]]]:
    """line_item_id -> [(status, fulfillment order id, its line item id, fulfillable units)], by id."""
    found: dict[int, list[tuple[str, int, int, int]]] = {}
    for order in sorted(orders, key=lambda o: int(o["id"])):
        for item in sorted(order["line_items"], key=lambda i: int(i["id"])):
            entry = (
                str(order["status"]),
                int(order["id"]),
                int(item["id"]),
                int(item["fulfillable_quantity"]),
            )
            found.setdefault(int(item["line_item_id"]), []).append(entry)
    return found
