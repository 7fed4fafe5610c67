"""The part of a Shopify order the orders adapter reads, as msgspec decodes it (issue #5).

msgspec skips the keys a ``TypedDict`` does not declare without building them (about 70 % of an
order: admin ids, ``*_set`` twins of fields the adapter does not map, fulfillments, client details):
the 7-line conformance order decodes in ~40 instead of ~54 µs. Declared keys are ``Any`` and decode
exactly as the plain decoder does (same values, floats as ``Decimal``), so the adapter's own rules
and rejections apply unchanged; an object where one is declared but something else is sent is a
msgspec ``ValidationError``, and then the whole payload is decoded plainly (``load_json``) and the
adapter rejects it as before. Every key the adapter reads must be declared here, else it reads as
absent: ``test_translate_shopify_orders_fast`` translates conformance and mutated orders both ways.
Addresses stay whole: the adapter treats an address object without keys as no address.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypedDict

import msgspec

__all__ = ["ORDER_DECODER"]


class _MoneySet(TypedDict, total=False):
    shop_money: Any  # _plain.set_money says what a shop_money that is not an object is
    presentment_money: Any


class _Pair(TypedDict, total=False):  # note attributes, line properties
    name: Any
    value: Any


class _Allocation(TypedDict, total=False):
    amount: Any
    amount_set: _MoneySet | None
    discount_application_index: Any


class _TaxLine(TypedDict, total=False):
    title: Any
    rate: Any
    price: Any
    price_set: _MoneySet | None


class _LineItem(TypedDict, total=False):
    id: Any
    quantity: Any
    price: Any
    price_set: _MoneySet | None
    discount_allocations: list[_Allocation] | None
    tax_lines: list[_TaxLine] | None
    sku: Any
    product_id: Any
    variant_id: Any
    title: Any
    name: Any
    variant_title: Any
    requires_shipping: Any
    fulfillable_quantity: Any
    properties: list[_Pair] | None


class _ShippingLine(TypedDict, total=False):
    id: Any
    code: Any
    title: Any
    carrier_identifier: Any
    source: Any
    price: Any
    price_set: _MoneySet | None
    discounted_price: Any
    discounted_price_set: _MoneySet | None
    discount_allocations: list[_Allocation] | None
    tax_lines: list[_TaxLine] | None


class _DiscountApplication(TypedDict, total=False):
    code: Any
    title: Any
    description: Any
    type: Any
    target_type: Any


class _DiscountCode(TypedDict, total=False):
    code: Any
    amount: Any
    amount_set: _MoneySet | None


class _Customer(TypedDict, total=False):
    id: Any
    email: Any
    phone: Any
    first_name: Any
    last_name: Any


class _Transaction(TypedDict, total=False):
    kind: Any
    status: Any
    currency: Any
    amount: Any
    amount_set: _MoneySet | None


class _Refund(TypedDict, total=False):
    transactions: list[_Transaction] | None


class _Order(TypedDict, total=False):
    id: Any
    name: Any
    email: Any
    contact_email: Any
    phone: Any
    currency: Any
    presentment_currency: Any
    created_at: Any
    updated_at: Any
    cancelled_at: Any
    closed_at: Any
    cancel_reason: Any
    financial_status: Any
    fulfillment_status: Any
    taxes_included: Any
    tags: Any
    note: Any
    note_attributes: list[_Pair] | None
    customer: _Customer | None
    billing_address: Any
    shipping_address: Any
    line_items: list[_LineItem] | None
    shipping_lines: list[_ShippingLine] | None
    discount_applications: list[_DiscountApplication] | None
    discount_codes: list[_DiscountCode] | None
    refunds: list[_Refund] | None
    subtotal_price: Any
    subtotal_price_set: _MoneySet | None
    total_discounts: Any
    total_discounts_set: _MoneySet | None
    total_tax: Any
    total_tax_set: _MoneySet | None
    total_price: Any
    total_price_set: _MoneySet | None
    current_total_price: Any
    current_total_price_set: _MoneySet | None
    total_outstanding: Any
    total_outstanding_set: _MoneySet | None
    total_shipping_price_set: _MoneySet | None


class _Document(_Order, total=False):
    """``{"order": ...}``, ``{"orders": [...]}`` or the order itself (``_fields.unwrap``)."""

    order: _Order
    orders: list[_Order]


ORDER_DECODER = msgspec.json.Decoder(_Document, float_hook=Decimal)
