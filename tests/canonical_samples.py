"""A realistic canonical order (the shape of a Shopify order with a discount, tax and shipping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import uuid4

from schemas.common import Address, DiscountAllocation, EventMetadata, Money, SourceRef, TaxLine
from schemas.ids import canonical_id
from schemas.orders import (
    CustomerSnapshot,
    FinancialStatus,
    FulfillmentStatus,
    Order,
    OrderChange,
    OrderEvent,
    OrderLine,
    OrderTotals,
    ShippingLine,
)

__all__ = ["sample_order_event"]


def sample_order_event() -> OrderEvent:
    shop, native_id = "acme.myshopify.com", "450789469"
    usd = "USD"
    placed = datetime(2024, 4, 1, 11, 0, tzinfo=timezone(timedelta(hours=-5)))
    return OrderEvent(
        metadata=EventMetadata(
            event_id=uuid4(),
            event_type="order.placed",
            occurred_at=placed,
            ingested_at=datetime.now(UTC),
            source=SourceRef(
                system="shopify", account=shop, entity="order", native_id=native_id, api_version="2024-04"
            ),
            provider_event_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        ),
        change=OrderChange.PLACED,
        order=Order(
            order_id=canonical_id("shopify", shop, "order", native_id),
            channel="shopify",
            account=shop,
            native_id=native_id,
            display_number="#1001",
            placed_at=placed,
            customer=CustomerSnapshot(
                customer_id=canonical_id("shopify", shop, "customer", "207119551"),
                native_id="207119551",
                email="bob.norman@example.com",
            ),
            shipping_address=Address(
                name="Bob Norman", street_lines=["Chestnut Street 92"], country_code="US"
            ),
            lines=[
                OrderLine(
                    line_id="466157049",
                    sku="IPOD2008GREEN",
                    title="IPod Nano - 8gb",
                    quantity=1,
                    unit_price=Money.of("199.00", usd),
                    discount_allocations=[DiscountAllocation(amount=Money.of("3.33", usd), code="TENOFF")],
                    tax_lines=[
                        TaxLine(title="State Tax", rate=Decimal("0.06"), amount=Money.of("11.94", usd))
                    ],
                )
            ],
            shipping_lines=[ShippingLine(title="Generic Shipping", price=Money.of("4.00", usd))],
            shop_currency=usd,
            totals=OrderTotals(
                subtotal=Money.of("195.67", usd),
                discounts=Money.of("3.33", usd),
                shipping=Money.of("4.00", usd),
                tax=Money.of("11.94", usd),
                total=Money.of("211.61", usd),
            ),
            financial_status=FinancialStatus.PAID,
            fulfillment_status=FulfillmentStatus.UNFULFILLED,
            tags=["vip"],
        ),
    )
