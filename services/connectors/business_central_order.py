"""Business Central order changes: the desired state against the order as it is, with its etags.

The egress ``business-central.salesOrderChange`` document holds the order's desired header fields and
item lines (or ``"change": "CANCELLED"``). Business Central API v2.0 has no deep PATCH and no upsert:
every PATCH and DELETE of a ``salesOrder`` or of one of its ``salesOrderLines`` needs that entity's
current ``@odata.etag`` in ``If-Match``. So at delivery time:

1. read the order with the probe, ``GET salesOrders?$filter=externalDocumentNumber eq '..'`` with
   ``&$expand=salesOrderLines`` (the expanded lines carry their own etags);
2. :func:`plan` the calls: PATCH the header fields that differ; pair item lines by item number (in
   ``sequence`` order when an item repeats), PATCH the fields that differ, DELETE current item lines
   the order no longer has, POST the new ones; a cancellation is one DELETE of the order;
3. send them in that order (header first: line changes re-total the header and change its etag). A
   ``412 Precondition Failed`` (someone changed the entity since the read) goes back to step 1 with
   fresh etags; calls already made show up as no difference then.

Re-delivery is idempotent: a change already applied plans no call (``Delivered(already=True)``), a
cancellation finds no order. Lines that are not items (comments, G/L lines for freight a person
added) are left alone. What Business Central's state forbids is rejected (-> ``dlq.delivery``): the
plan refuses to delete a shipped or invoiced line, to go below the shipped quantity, or to delete an
order with shipped lines, before any call is made; anything else Business Central refuses (a released
order, a blocked item) comes back with its error body. An UPDATED order that is not in Business
Central is created from the document's ``create`` (this version's deep insert): its PLACED version
never got there (webhooks out of order, or the router released an order that changed while held).
Unless a posted ``salesInvoice`` carries the reference: Business Central removes a fully invoiced
sales order, and creating it again could bill it twice (delivered; later changes are returns).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from services.connectors.classify import Delivered, Outcome, Rejected, Retry, classify

__all__ = ["DOCUMENT_TYPE", "Send", "Step", "apply", "plan"]

DOCUMENT_TYPE = "business-central.salesOrderChange"
_LINE_FIELDS = ("description", "quantity", "unitPrice", "discountAmount")
_MAX_ROUNDS = 10  # reads per delivery; each round but a conflicting one makes at least one call
_ENCODER = msgspec.json.Encoder(decimal_format="number")  # money goes out digit for digit


@dataclass(frozen=True, slots=True)
class Step:
    """One call relative to the order collection path: ``suffix`` is ``(<id>)`` and more."""

    method: str
    suffix: str
    etag: str | None = None
    body: dict[str, Any] | None = None

    def describe(self) -> str:
        return f"{self.method} salesOrders{self.suffix}"


# (method, path, JSON body or None, If-Match etag or None) -> (HTTP status, body, Retry-After)
Send = Callable[[str, str, bytes | None, str | None], tuple[int, bytes, str | None]]


def _loads(raw: bytes) -> Any:
    return json.loads(raw, parse_float=Decimal)


def _same(want: Any, have: Any) -> bool:
    """Business Central's view of a value: numbers by value, text trimmed, null as empty text."""
    if isinstance(want, Decimal | int) and not isinstance(want, bool):
        return have is not None and not isinstance(have, str | bool) and Decimal(want) == Decimal(have)
    return str(want if want is not None else "").strip() == str(have if have is not None else "").strip()


def _item(line: dict[str, Any]) -> str:
    return str(line.get("lineObjectNumber") or "").upper()  # item numbers are Code fields


def _quantity(line: dict[str, Any], name: str) -> Decimal:
    return Decimal(line.get(name) or 0)


def plan(desired: dict[str, Any], order: dict[str, Any]) -> list[Step] | Rejected:
    """The calls that take ``order`` (as read, with lines) to ``desired``; [] when it is there."""
    order_id = order["id"]
    lines: list[dict[str, Any]] = sorted(
        (line for line in order.get("salesOrderLines") or [] if line.get("lineType") == "Item"),
        key=lambda line: int(line.get("sequence") or 0),
    )
    if desired["change"] == "CANCELLED":
        shipped = [line for line in lines if _quantity(line, "shippedQuantity") > 0]
        if shipped:
            return _refuse(order, "cannot delete an order with shipped lines", shipped)
        return [Step("DELETE", f"({order_id})", order.get("@odata.etag"))]
    header = {
        name: value for name, value in desired["salesOrder"].items() if not _same(value, order.get(name))
    }
    steps = [Step("PATCH", f"({order_id})", order.get("@odata.etag"), header)] if header else []
    remaining: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        remaining.setdefault(_item(line), []).append(line)
    updates: list[Step] = []
    additions: list[Step] = []
    too_low: list[dict[str, Any]] = []
    for want in desired["salesOrderLines"]:
        candidates = remaining.get(_item(want))
        if not candidates:
            additions.append(Step("POST", f"({order_id})/salesOrderLines", body=want))
            continue
        have = candidates.pop(0)
        if Decimal(want["quantity"]) < _quantity(have, "shippedQuantity"):
            too_low.append(have)
        changed = {name: want[name] for name in _LINE_FIELDS if not _same(want[name], have.get(name))}
        if changed.keys() & {"quantity", "unitPrice"}:
            # Business Central re-derives the line discount from its percentage when either changes
            changed["discountAmount"] = want["discountAmount"]
        if changed:
            suffix = f"({order_id})/salesOrderLines({have['id']})"
            updates.append(Step("PATCH", suffix, have.get("@odata.etag"), changed))
    if too_low:
        return _refuse(order, "cannot reduce a line below its shipped quantity", too_low)
    removed = [line for left in remaining.values() for line in left]
    posted = [
        line
        for line in removed
        if _quantity(line, "shippedQuantity") > 0 or _quantity(line, "invoicedQuantity") > 0
    ]
    if posted:
        return _refuse(order, "cannot delete shipped or invoiced lines", posted)
    deletions = [
        Step("DELETE", f"({order_id})/salesOrderLines({line['id']})", line.get("@odata.etag"))
        for line in removed
    ]
    return steps + deletions + updates + additions


def _refuse(order: dict[str, Any], why: str, lines: Iterable[dict[str, Any]]) -> Rejected:
    detail = ", ".join(
        f"line {line.get('sequence')} item {line.get('lineObjectNumber')!s}: quantity {line.get('quantity')}"
        f", shipped {line.get('shippedQuantity')}, invoiced {line.get('invoicedQuantity')}"
        for line in lines
    )
    return Rejected(0, f"Business Central sales order {order.get('number')}: {why} ({detail})")


def _found(status: int, answer: bytes, reference: str) -> dict[str, Any] | Outcome | None:
    """The order read by the probe, None when there is none, or why the read failed."""
    if status != 200:
        return classify(status, answer)
    try:
        found = _loads(answer)["value"]
    except (ValueError, KeyError, TypeError) as error:
        return Retry(f"probe answered unreadable JSON: {type(error).__name__}")
    if len(found) > 1:
        return Rejected(0, f"{len(found)} sales orders carry externalDocumentNumber {reference!r}")
    return found[0] if found else None


def _create(desired: dict[str, Any], reference: str, collection: str, send: Send) -> Outcome:
    """No sales order: unless Business Central invoiced it in full (which removes the order), create it
    with this version's deep insert. An invoiced order is not created again (that could bill twice);
    changes after that are returns and credit memos, not sales order changes."""
    quoted = "'" + reference.replace("'", "''") + "'"
    invoices = collection.removesuffix("/salesOrders") + "/salesInvoices"
    query = f"{invoices}?$filter=externalDocumentNumber eq {quoted}&$top=1"
    status, answer, retry_after = send("GET", query, None, None)
    if status != 200:
        return classify(status, answer, retry_after)
    try:
        invoiced = bool(_loads(answer)["value"])
    except (ValueError, KeyError, TypeError) as error:
        return Retry(f"salesInvoices answered unreadable JSON: {type(error).__name__}")
    if invoiced:
        return Delivered(200, already=True)
    status, answer, retry_after = send("POST", collection, _ENCODER.encode(desired["create"]), None)
    outcome = classify(status, answer, retry_after)
    if isinstance(outcome, Rejected):
        return Rejected(outcome.status, f"POST salesOrders: {outcome.body}")
    return outcome


def apply(document: bytes, collection: str, read: Callable[[], tuple[int, bytes]], send: Send) -> Outcome:
    """Read, plan, send; on 412 read again. ``collection`` is the document's salesOrders path."""
    try:
        desired: dict[str, Any] = _loads(document)
        reference = str(desired["externalDocumentNumber"])
        if desired["change"] == "UPDATED":
            if not {"salesOrder", "salesOrderLines", "create"} <= desired.keys():
                raise KeyError("salesOrder, salesOrderLines, create")
        elif desired["change"] != "CANCELLED":
            raise ValueError(desired["change"])
    except (ValueError, KeyError, TypeError) as error:
        return Rejected(0, f"not an egress Business Central order change: {type(error).__name__}")
    sent = 0
    for _ in range(_MAX_ROUNDS):
        order = _found(*read(), reference)
        if order is None:
            if desired["change"] == "CANCELLED":
                return Delivered(200, already=sent == 0)  # deleted, by us or earlier
            return _create(desired, reference, collection, send)
        if not isinstance(order, dict):
            return order
        steps = plan(desired, order)
        if isinstance(steps, Rejected):
            return steps
        if not steps:
            return Delivered(200, already=sent == 0)
        conflict = False
        for step in steps:
            body = None if step.body is None else _ENCODER.encode(step.body)
            status, answer, retry_after = send(step.method, collection + step.suffix, body, step.etag)
            if status == 412 or (status == 409 and b"EntityChanged" in answer):
                conflict = True  # the etag is stale: read again, the plan shrinks by what went through
                break
            if status == 404 and step.method == "DELETE":
                continue  # already gone
            outcome = classify(status, answer, retry_after)
            if isinstance(outcome, Rejected):
                return Rejected(outcome.status, f"{step.describe()}: {outcome.body}")
            if not isinstance(outcome, Delivered):
                return outcome
            sent += 1
        if not conflict:
            return Delivered(200)
    return Retry(f"the order kept changing under {_MAX_ROUNDS} reads (412 Precondition Failed)")
