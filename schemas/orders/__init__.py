"""Canonical order events."""

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
    OrderTotals,
    RoutedLine,
    RoutedOrderEvent,
    RoutingStatus,
    ShippingLine,
)

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
