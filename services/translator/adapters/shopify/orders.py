"""Shopify orders (webhook body, ``{"order": ...}`` or ``{"orders": [...]}``) -> OrderEvent.

Totals are the source's own figures: ``total_price`` (original) and ``current_total_price`` (after
edits and refunds) both kept. Line prices are before discounts; allocations carry the discounts.

The hot path of the bus (issue #5): the payload is read as plain dicts (``_fields``, same rules as
JsonNode, a path string only for a rejection). Every value the adapter reads is checked at its
source path to rules inside the canonical model's (amounts, currencies, ids, instants, rates), so
the records are built as the model's validation would make them, without it
(``schemas.base.trusted``: every field in field order, defaults included, instants cut to
milliseconds). The one kind of value the adapter does not check itself, an amount it computes (a
line total, a sum) beyond decimal(20, 4), leaves its record a dict, and then the whole order is
validated, so the model rejects it at its canonical field as before.
``tests/unit/test_translate_shopify_orders_fast.py`` holds the events, record for record (field
order, ``model_fields_set``, value types), to the validated ones of the previous adapter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from schemas.base import trusted, utc_millis
from schemas.common.models import DiscountAllocation, Money, TaxLine
from schemas.orders.models import (
    CustomerSnapshot,
    DiscountTarget,
    FinancialStatus,
    FulfillmentStatus,
    Order,
    OrderCancellation,
    OrderChange,
    OrderDiscount,
    OrderEvent,
    OrderLine,
    ShippingLine,
)
from services.translator.adapters import _fields as f
from services.translator.adapters._common import canonical, change_is_new, route, string_map
from services.translator.adapters.shopify._plain import (
    address,
    money,
    money_pair,
    opt_money_pair,
    tags,
)
from services.translator.adapters.shopify._shared import SYSTEM
from services.translator.adapters.shopify._wire import ORDER_DECODER
from services.translator.adapters.shopify.totals import order_totals
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode, load_json
from services.translator.metadata import event_metadata

__all__ = ["order_change", "orders_of", "translate_orders"]

FINANCIAL = {
    "pending": FinancialStatus.PENDING,
    "authorized": FinancialStatus.AUTHORIZED,
    "partially_paid": FinancialStatus.PARTIALLY_PAID,
    "paid": FinancialStatus.PAID,
    "partially_refunded": FinancialStatus.PARTIALLY_REFUNDED,
    "refunded": FinancialStatus.REFUNDED,
    "voided": FinancialStatus.VOIDED,
}
FULFILLMENT = {
    None: FulfillmentStatus.UNFULFILLED,  # Shopify sends null for unfulfilled
    "unfulfilled": FulfillmentStatus.UNFULFILLED,
    "partial": FulfillmentStatus.PARTIALLY_FULFILLED,
    "fulfilled": FulfillmentStatus.FULFILLED,
    "restocked": FulfillmentStatus.RETURNED,
}
CHANGE_BY_TOPIC = {
    "orders/create": OrderChange.PLACED,
    "orders/cancelled": OrderChange.CANCELLED,
}
DISCOUNT_TARGET = {"line_item": DiscountTarget.LINE_ITEMS, "shipping_line": DiscountTarget.SHIPPING}

Plain = dict[str, Any]
"""A canonical record as the dict its model validates from."""
Applications = list[tuple[Any, str]]
Allocations = dict[int, list[DiscountAllocation]]

# What a validating caller would pass of each record (schemas.base.trusted's ``given``): the
# fields below that the adapter leaves at the model's default are not in them.
_EVENT = frozenset(OrderEvent.model_fields)
_ORDER = frozenset(Order.model_fields)
_LINE = frozenset(OrderLine.model_fields) - {"unit_of_measure", "fulfillment_location"}
_SHIPPING = frozenset(ShippingLine.model_fields)
_ALLOCATION = frozenset(DiscountAllocation.model_fields)
_TAX = frozenset(TaxLine.model_fields) - {"jurisdiction"}
_DISCOUNT = frozenset(OrderDiscount.model_fields)
_LEGACY_DISCOUNT = frozenset({"code", "kind", "amount"})
_CANCELLATION = frozenset(OrderCancellation.model_fields)
_CUSTOMER = frozenset(CustomerSnapshot.model_fields) - {"is_guest"}
_GUEST = frozenset({"email", "phone", "is_guest"})


@route
def translate_orders(record: IngressRecord) -> Sequence[OrderEvent]:
    return orders_of(record, load_json(record.raw, typed=ORDER_DECODER))


def orders_of(record: IngressRecord, document: Any) -> list[OrderEvent]:
    """The events of a decoded payload: the keys ``_wire`` declares, or all of them."""
    return [
        _order_event(record, f.obj(value, path), path)
        for value, path in f.unwrap(document, "order", "orders")
    ]


def _order_event(record: IngressRecord, node: f.Obj, path: str) -> OrderEvent:
    native_id = f.text(node, "id", path)
    shop = f.currency(node, "currency", path)
    presentment = (
        f.currency(node, "presentment_currency", path)
        if node.get("presentment_currency") is not None
        else None
    )
    placed_at = f.timestamp(node, "created_at", path)
    updated_at = f.opt_timestamp(node, "updated_at", path)
    cancelled_at = f.opt_timestamp(node, "cancelled_at", path)
    closed_at = f.opt_timestamp(node, "closed_at", path)
    applications = list(f.items(node, "discount_applications", path))
    by_index: Allocations = {}
    lines = [
        _line(f.obj(line, line_path), line_path, shop, applications, by_index)
        for line, line_path in f.items(node, "line_items", path)
    ]
    shipping = [
        _shipping(f.obj(line, line_path), line_path, shop, applications, by_index)
        for line, line_path in f.items(node, "shipping_lines", path)
    ]
    totals, presentment_totals = order_totals(node, path, shop, shipping)
    change = order_change(record, placed_at, updated_at, cancelled_at, closed_at)
    order = {
        "order_id": canonical(record, "order", native_id),
        "channel": SYSTEM,
        "account": record.account,
        "native_id": native_id,
        "display_number": f.opt_text(node, "name", path),
        "placed_at": utc_millis(placed_at),
        "updated_at": utc_millis(updated_at) if updated_at is not None else None,
        "customer": _customer(record, node, path),
        "billing_address": address(node.get("billing_address"), f"{path}.billing_address"),
        "shipping_address": address(node.get("shipping_address"), f"{path}.shipping_address"),
        "lines": lines,
        "shipping_lines": shipping,
        "discounts": (discounts := _discounts(node, path, applications, by_index, shop)),
        "shop_currency": shop,
        "presentment_currency": presentment,
        "taxes_included": bool(f.opt_boolean(node, "taxes_included", path, False)),
        "totals": totals,
        "presentment_totals": presentment_totals,
        "financial_status": FINANCIAL.get(
            f.opt_text(node, "financial_status", path) or "", FinancialStatus.UNKNOWN
        ),
        "fulfillment_status": FULFILLMENT.get(
            f.opt_text(node, "fulfillment_status", path), FulfillmentStatus.UNKNOWN
        ),
        "source_status": f.opt_text(node, "financial_status", path),
        "cancellation": (
            trusted(
                OrderCancellation,
                {
                    "cancelled_at": utc_millis(cancelled_at) if cancelled_at is not None else None,
                    "reason": f.opt_text(node, "cancel_reason", path),
                },
                _CANCELLATION,
            )
            if cancelled_at or node.get("cancel_reason") is not None
            else None
        ),
        "closed_at": utc_millis(closed_at) if closed_at is not None else None,
        "tags": tags(node, "tags", path),
        "note": f.opt_text(node, "note", path),
        "attributes": _string_map(node, "note_attributes", path),
    }
    metadata = event_metadata(
        record,
        event_type=f"order.{change.lower()}",
        entity="order",
        native_id=native_id,
        occurred_at=updated_at or placed_at,
    )
    if type(totals) is dict or any(type(x) is dict for x in lines) or any(type(x) is dict for x in discounts):
        # A computed amount the adapter left to the model (beyond decimal(20, 4)): it rejects it
        # at its canonical field; the records built already pass as they are.
        return OrderEvent.model_validate({"metadata": metadata, "change": change, "order": order})
    # Every value is what validation would make of it (schemas.base.trusted; the differential
    # test holds the result equal to the validated event).
    return trusted(
        OrderEvent, {"metadata": metadata, "change": change, "order": trusted(Order, order, _ORDER)}, _EVENT
    )


def order_change(
    record: IngressRecord,
    placed_at: datetime,
    updated_at: datetime | None,
    cancelled_at: datetime | None,
    closed_at: datetime | None,
) -> OrderChange:
    by_topic = CHANGE_BY_TOPIC.get(record.provider_topic or "")
    if by_topic is not None:
        return by_topic
    if cancelled_at is not None:
        return OrderChange.CANCELLED
    if closed_at is not None:
        return OrderChange.CLOSED
    if record.provider_topic is None and change_is_new(placed_at, updated_at):
        return OrderChange.PLACED
    return OrderChange.UPDATED


def _string_map(node: f.Obj, key: str, path: str) -> dict[str, str]:
    """``[{"name": ..., "value": ...}]`` (note attributes, line properties) as strings."""
    value = node.get(key)
    if value is None:
        return {}
    if type(value) is list:  # the common shape, ASCII strings both, first: no JsonNodes
        result = {}
        for item in value:
            if type(item) is not dict:
                break
            name, text = item.get("name"), item.get("value")
            if type(name) is not str or type(text) is not str or not (name.isascii() and text.isascii()):
                break
            result[name] = text
        else:
            return result

    def pairs() -> Iterator[tuple[str, JsonNode]]:
        for item, item_path in f.items(node, key, path):
            pair = f.obj(item, item_path)
            yield f.text(pair, "name", item_path), f.node(pair, "value", item_path)

    return string_map(pairs())


def _allocations(
    node: f.Obj, path: str, shop: str, applications: Applications, by_index: Allocations
) -> list[DiscountAllocation]:
    result = []
    for value, allocation_path in f.items(node, "discount_allocations", path):
        allocation = f.obj(value, allocation_path)
        amount, presentment = money_pair(allocation, "amount", allocation_path, shop)
        index = allocation.get("discount_application_index")
        if index is None:
            index = -1
        elif type(index) is not int:
            index = f.node(allocation, "discount_application_index", allocation_path).integer()
        code = title = None
        if 0 <= index < len(applications):
            application_value, application_path = applications[index]
            application = f.obj(application_value, application_path)
            code = f.opt_text(application, "code", application_path)
            title = f.opt_text(application, "title", application_path)
        made = trusted(
            DiscountAllocation,
            {"amount": amount, "presentment_amount": presentment, "code": code, "title": title},
            _ALLOCATION,
        )
        by_index.setdefault(index, []).append(made)
        result.append(made)
    return result


def _tax_lines(node: f.Obj, path: str, shop: str) -> list[TaxLine]:
    result = []
    for value, tax_path in f.items(node, "tax_lines", path):
        tax = f.obj(value, tax_path)
        price, presentment = money_pair(tax, "price", tax_path, shop)
        fields = {
            "title": f.opt_text(tax, "title", tax_path) or "tax",
            "rate": f.rate(tax, "rate", tax_path),  # 10 places, within 0..100: as the model keeps it
            "amount": price,
            "presentment_amount": presentment,
            "jurisdiction": None,
        }
        result.append(trusted(TaxLine, fields, _TAX))
    return result


def _line(
    node: f.Obj, path: str, shop: str, applications: Applications, by_index: Allocations
) -> OrderLine | Plain:
    units = f.quantity(node, "quantity", path)
    price, presentment_price = money_pair(node, "price", path, shop)
    allocations = _allocations(node, path, shop, applications, by_index)
    discounted = price.amount * units - sum((a.amount.amount for a in allocations), Decimal(0))
    line_total = money(discounted, shop)
    fields = {
        "line_id": f.text(node, "id", path),
        "sku": f.opt_text(node, "sku", path),
        "product_id": f.opt_text(node, "product_id", path),
        "variant_id": f.opt_text(node, "variant_id", path),
        "title": f.opt_text(node, "title", path) or f.opt_text(node, "name", path) or "",
        "variant_title": f.opt_text(node, "variant_title", path),
        "quantity": units,
        "unit_of_measure": "EA",
        "unit_price": price,
        "presentment_unit_price": presentment_price,
        "discount_allocations": allocations,
        "tax_lines": _tax_lines(node, path, shop),
        "line_total": line_total,
        "requires_shipping": bool(f.opt_boolean(node, "requires_shipping", path, True)),
        "fulfillable_quantity": f.quantity(node, "fulfillable_quantity", path)
        if node.get("fulfillable_quantity") is not None
        else None,
        "fulfillment_location": None,
        "properties": _string_map(node, "properties", path),
    }
    return fields if type(line_total) is dict else trusted(OrderLine, fields, _LINE)


def _shipping(
    node: f.Obj, path: str, shop: str, applications: Applications, by_index: Allocations
) -> ShippingLine:
    price, presentment = money_pair(node, "price", path, shop)
    discounted = opt_money_pair(node, "discounted_price", path, shop)
    fields = {
        "line_id": f.opt_text(node, "id", path),
        "code": f.opt_text(node, "code", path),
        "title": f.opt_text(node, "title", path) or f.opt_text(node, "code", path) or "shipping",
        "carrier": f.opt_text(node, "carrier_identifier", path) or f.opt_text(node, "source", path),
        "price": price,
        "discounted_price": discounted[0] if discounted else None,
        "presentment_price": presentment,
        "discount_allocations": _allocations(node, path, shop, applications, by_index),
        "tax_lines": _tax_lines(node, path, shop),
    }
    return trusted(ShippingLine, fields, _SHIPPING)


def _discounts(
    node: f.Obj, path: str, applications: Applications, by_index: Allocations, shop: str
) -> list[OrderDiscount | Plain]:
    if node.get("discount_applications") is None:
        # Legacy payloads list only codes, each with its amount.
        result: list[OrderDiscount | Plain] = []
        for value, code_path in f.items(node, "discount_codes", path):
            code = f.obj(value, code_path)
            legacy = {
                "code": f.opt_text(code, "code", code_path),
                "title": None,
                "kind": "discount_code",
                "target": DiscountTarget.ORDER,
                "amount": money_pair(code, "amount", code_path, shop)[0],
                "presentment_amount": None,
            }
            result.append(trusted(OrderDiscount, legacy, _LEGACY_DISCOUNT))
        return result
    discounts: list[OrderDiscount | Plain] = []
    for index, (value, application_path) in enumerate(applications):
        application = f.obj(value, application_path)
        allocated = by_index.get(index, [])
        presentments: list[Money] = [a.presentment_amount for a in allocated if a.presentment_amount]
        amount = money(sum((a.amount.amount for a in allocated), Decimal(0)), shop)
        presentment = (
            money(sum((p.amount for p in presentments), Decimal(0)), presentments[0].currency)
            if presentments
            else None
        )
        fields = {
            "code": f.opt_text(application, "code", application_path),
            "title": f.opt_text(application, "title", application_path)
            or f.opt_text(application, "description", application_path),
            "kind": f.opt_text(application, "type", application_path),
            "target": DISCOUNT_TARGET.get(
                f.opt_text(application, "target_type", application_path) or "", DiscountTarget.ORDER
            ),
            "amount": amount,
            "presentment_amount": presentment,
        }
        computed = type(amount) is dict or type(presentment) is dict
        discounts.append(fields if computed else trusted(OrderDiscount, fields, _DISCOUNT))
    return discounts


def _customer(record: IngressRecord, node: f.Obj, path: str) -> CustomerSnapshot | None:
    customer_value = node.get("customer")
    email = f.opt_text(node, "email", path) or f.opt_text(node, "contact_email", path)
    if customer_value is None:
        if not email:
            return None
        guest = {
            "customer_id": None,
            "native_id": None,
            "email": email,
            "phone": f.opt_text(node, "phone", path),
            "first_name": None,
            "last_name": None,
            "is_guest": True,
        }
        return trusted(CustomerSnapshot, guest, _GUEST)
    customer_path = f"{path}.customer"
    customer = f.obj(customer_value, customer_path)
    native = f.text(customer, "id", customer_path)
    fields = {
        "customer_id": canonical(record, "customer", native),
        "native_id": native,
        "email": f.opt_text(customer, "email", customer_path) or email,
        "phone": f.opt_text(customer, "phone", customer_path) or f.opt_text(node, "phone", path),
        "first_name": f.opt_text(customer, "first_name", customer_path),
        "last_name": f.opt_text(customer, "last_name", customer_path),
        "is_guest": False,
    }
    return trusted(CustomerSnapshot, fields, _CUSTOMER)
