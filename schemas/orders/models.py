"""Orders, namespace ``com.esb.canonical.orders``: the whole order as the source knows it."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from schemas.base import AvroRecord, CurrencyCode, UtcDatetime, pii
from schemas.common.models import Address, DiscountAllocation, EventMetadata, Money, TaxLine

__all__ = [
    "CustomerSnapshot",
    "DiscountTarget",
    "FinancialStatus",
    "FulfillmentStatus",
    "Order",
    "OrderCancellation",
    "OrderChange",
    "OrderDiscount",
    "OrderEvent",
    "OrderLine",
    "OrderTotals",
    "RoutedLine",
    "RoutedOrderEvent",
    "RoutingStatus",
    "ShippingLine",
]


class OrderChange(StrEnum):
    PLACED = "PLACED"
    UPDATED = "UPDATED"
    CANCELLED = "CANCELLED"
    CLOSED = "CLOSED"
    UNKNOWN = "UNKNOWN"


class FinancialStatus(StrEnum):
    PENDING = "PENDING"
    AUTHORIZED = "AUTHORIZED"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    VOIDED = "VOIDED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


class FulfillmentStatus(StrEnum):
    UNFULFILLED = "UNFULFILLED"
    PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED"
    FULFILLED = "FULFILLED"
    RETURNED = "RETURNED"
    UNKNOWN = "UNKNOWN"


class DiscountTarget(StrEnum):
    LINE_ITEMS = "LINE_ITEMS"
    SHIPPING = "SHIPPING"
    ORDER = "ORDER"
    UNKNOWN = "UNKNOWN"


class CustomerSnapshot(AvroRecord):
    """The customer as shown on the order (the customer domain holds the full record)."""

    customer_id: UUID | None = Field(default=None, description="canonical id of the source customer record")
    native_id: str | None = None
    email: str | None = pii()
    phone: str | None = pii()
    first_name: str | None = pii()
    last_name: str | None = pii()
    is_guest: bool = False


class OrderLine(AvroRecord):
    line_id: str = Field(description="native line id, unique within the order")
    sku: str | None = None
    product_id: str | None = None
    variant_id: str | None = None
    title: str
    variant_title: str | None = None
    quantity: int = Field(description="ordered quantity in unit_of_measure")
    unit_of_measure: str = "EA"
    unit_price: Money = Field(description="per unit, before discounts, in shop currency")
    presentment_unit_price: Money | None = None
    discount_allocations: list[DiscountAllocation] = Field(default_factory=list)
    tax_lines: list[TaxLine] = Field(default_factory=list)
    line_total: Money | None = Field(
        default=None, description="quantity x unit price minus discounts, pre-tax"
    )
    requires_shipping: bool = True
    fulfillable_quantity: int | None = None
    fulfillment_location: str | None = None
    properties: dict[str, str] = Field(default_factory=dict, description="custom attributes / meta data")


class ShippingLine(AvroRecord):
    line_id: str | None = None
    code: str | None = None
    title: str
    carrier: str | None = None
    price: Money = Field(description="before discounts, in shop currency")
    discounted_price: Money | None = None
    presentment_price: Money | None = None
    discount_allocations: list[DiscountAllocation] = Field(default_factory=list)
    tax_lines: list[TaxLine] = Field(default_factory=list)


class OrderDiscount(AvroRecord):
    """An order-level discount application (code, automatic or manual)."""

    code: str | None = None
    title: str | None = None
    kind: str | None = Field(default=None, description="discount_code, automatic, manual, script...")
    target: DiscountTarget = DiscountTarget.ORDER
    amount: Money
    presentment_amount: Money | None = None


class OrderTotals(AvroRecord):
    """Order totals in one currency; the source's own figures, not recomputed."""

    subtotal: Money = Field(description="lines after line discounts, before shipping and tax")
    discounts: Money
    shipping: Money
    tax: Money
    total: Money
    refunded: Money | None = None
    outstanding: Money | None = Field(default=None, description="unpaid balance")
    current_total: Money | None = Field(default=None, description="total after edits, refunds and removals")


class OrderCancellation(AvroRecord):
    cancelled_at: UtcDatetime | None = Field(default=None, description="sources do not always set it")
    reason: str | None = None


class Order(AvroRecord):
    order_id: UUID = Field(description="canonical_id(system, account, 'order', native_id); the Kafka key")
    channel: str = Field(description="sales channel: shopify, woocommerce, amazon, pos...")
    account: str = Field(description="shop/store/seller account within the channel")
    native_id: str
    display_number: str | None = Field(default=None, description="what the customer sees: #1001, 000000003")
    placed_at: UtcDatetime
    updated_at: UtcDatetime | None = None
    customer: CustomerSnapshot | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    lines: list[OrderLine]
    shipping_lines: list[ShippingLine] = Field(default_factory=list)
    discounts: list[OrderDiscount] = Field(default_factory=list)
    shop_currency: CurrencyCode
    presentment_currency: CurrencyCode | None = None
    taxes_included: bool = False
    totals: OrderTotals = Field(description="in shop currency")
    presentment_totals: OrderTotals | None = None
    financial_status: FinancialStatus = FinancialStatus.UNKNOWN
    fulfillment_status: FulfillmentStatus = FulfillmentStatus.UNKNOWN
    source_status: str | None = Field(default=None, description="the source's own status value, verbatim")
    cancellation: OrderCancellation | None = None
    closed_at: UtcDatetime | None = None
    tags: list[str] = Field(default_factory=list)
    note: str | None = pii("free text from the buyer or staff; may hold personal data")
    attributes: dict[str, str] = Field(default_factory=dict, description="note attributes / meta data")


class OrderEvent(AvroRecord):
    """Value of ``canonical.orders.v1``: the change and the whole order after it. Key: ``order.order_id``."""

    metadata: EventMetadata
    change: OrderChange
    order: Order


class RoutingStatus(StrEnum):
    """Where the router's decision for an order stands."""

    ROUTED = "ROUTED"
    BACKORDERED = "BACKORDERED"
    HELD = "HELD"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"


class RoutedLine(AvroRecord):
    """Units of one order line given to one location, or backordered (``location`` null)."""

    order_line_id: str
    sku: str
    quantity: int = Field(description="positive units")
    location: str | None = Field(default=None, description="canonical location code; null = backordered")
    fulfillment_order_id: UUID | None = Field(default=None, description="the location's fulfillment order")


class RoutedOrderEvent(AvroRecord):
    """Value of ``canonical.routed-orders.v1``: the router's whole decision for an order. Key: ``order_id``.

    Egress turns it into a sales order in ``erp_entity``; every event carries the full decision, a
    higher ``revision`` replaces a lower one.
    """

    metadata: EventMetadata
    status: RoutingStatus
    order_id: UUID
    order_native_id: str | None = None
    channel: str
    account: str
    placed_at: UtcDatetime
    erp_entity: str | None = Field(
        default=None, description="NetSuite subsidiary, BC company; null while held"
    )
    rule_ids: list[str] = Field(default_factory=list, description="routing rules that decided, in file order")
    rules_version: str = Field(description="version of the routing rules file")
    revision: int = Field(description="increases by one with every decision published for the order")
    allocations: list[RoutedLine] = Field(default_factory=list)
    hold_reason: str | None = None
