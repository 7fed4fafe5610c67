"""Deterministic canonical events and target configurations for the egress tests.

Every id and timestamp is fixed so the documents are byte-for-byte reproducible (golden files).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from schemas.common.models import (
    Address,
    DiscountAllocation,
    DocumentRef,
    EventMetadata,
    Money,
    SourceRef,
    TaxLine,
)
from schemas.customers.models import CustomerSummary, GoldenCustomer
from schemas.fulfillment.models import (
    FulfillmentChange,
    FulfillmentOrderEvent,
    FulfillmentOrderLine,
    ShipmentEvent,
    ShipmentLine,
    ShipmentStatus,
    Tracking,
)
from schemas.ids import canonical_id
from schemas.inventory.models import InventoryLevel, MovementKind, StockMovementEvent
from schemas.ledger.models import EntrySide, JournalEntryEvent, JournalEntryKind, JournalLine
from schemas.orders.models import (
    CustomerSnapshot,
    FinancialStatus,
    Order,
    OrderChange,
    OrderEvent,
    OrderLine,
    OrderTotals,
    RoutedLine,
    RoutedOrderEvent,
    RoutingStatus,
    ShippingLine,
)
from services.egress.keys import document_number
from services.egress.settings import (
    BusinessCentralTarget,
    EgressSettings,
    NetSuiteTarget,
    SapTarget,
    ShopifyTarget,
    WmsTarget,
)
from services.egress.shopify import OrderLineRef

__all__ = [
    "SHOP",
    "fulfillment_order",
    "golden_customer",
    "inventory_level",
    "journal_entry",
    "order_event",
    "order_version",
    "routed_order",
    "settings",
    "shipment",
    "shopify_order_lines",
    "stock_movement",
    "warehouse_shipment",
]

SHOP = "acme.myshopify.com"
_INGESTED = datetime(2024, 4, 1, 16, 0, 5, tzinfo=UTC)


def _id(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"https://tests.esb/{name}")


def _meta(
    name: str, event_type: str, occurred: datetime, system: str = "shopify", entity: str = "order"
) -> EventMetadata:
    return EventMetadata(
        event_id=_id(f"event/{name}"),
        event_type=event_type,
        occurred_at=occurred,
        ingested_at=_INGESTED,
        source=SourceRef(system=system, account=SHOP, entity=entity, native_id=name),
    )


def usd(value: str) -> Money:
    return Money.of(value, "USD")


PLACED = datetime(2024, 4, 1, 11, 0, 0, tzinfo=timezone(timedelta(hours=-5)))
SHIP_TO = Address(
    name="Bob Norman",
    street_lines=["Chestnut Street 92", "Apt 4"],
    city="Louisville",
    region="Kentucky",
    region_code="US-KY",
    postal_code="40202",
    country_code="US",
    phone="+15555555555",
)
BILL_TO = Address(
    name="Bob Norman",
    company="Norman & Sons",
    street_lines=["Chestnut Street 92"],
    city="Louisville",
    region_code="US-KY",
    postal_code="40202",
    country_code="US",
)


def order_event(change: OrderChange = OrderChange.PLACED, name: str = "450789469") -> OrderEvent:
    order_id = canonical_id("shopify", SHOP, "order", name)
    return OrderEvent(
        metadata=_meta(f"order/{name}/{change.value}", f"order.{change.value.lower()}", PLACED),
        change=change,
        order=Order(
            order_id=order_id,
            channel="shopify",
            account=SHOP,
            native_id=name,
            display_number="#1001",
            placed_at=PLACED,
            customer=CustomerSnapshot(
                customer_id=canonical_id("shopify", SHOP, "customer", "207119551"),
                native_id="207119551",
                email="bob.norman@example.com",
                phone="+15555555555",
            ),
            billing_address=BILL_TO,
            shipping_address=SHIP_TO,
            lines=[
                OrderLine(
                    line_id="466157049",
                    sku="IPOD2008GREEN",
                    title="IPod Nano - 8gb",
                    variant_title="green",
                    quantity=2,
                    unit_price=usd("199.00"),
                    discount_allocations=[DiscountAllocation(amount=usd("20.00"), code="SPRING")],
                    tax_lines=[TaxLine(title="State Tax", rate=Decimal("0.06"), amount=usd("22.68"))],
                    line_total=usd("378.00"),
                ),
                OrderLine(
                    line_id="518995019",
                    sku="CABLE-USB-C",
                    title="USB-C cable",
                    quantity=3,
                    unit_price=usd("4.3333"),
                    line_total=usd("13.00"),
                ),
            ],
            shipping_lines=[ShippingLine(title="Standard", code="STD", price=usd("10.00"))],
            shop_currency="USD",
            totals=OrderTotals(
                subtotal=usd("391.00"),
                discounts=usd("20.00"),
                shipping=usd("10.00"),
                tax=usd("22.68"),
                total=usd("423.68"),
            ),
            financial_status=FinancialStatus.PAID,
        ),
    )


def order_version(
    change: OrderChange,
    version: int,
    quantities: dict[str, int] | None = None,
    added: list[OrderLine] | None = None,
    shipping_address: Address | None = SHIP_TO,
    name: str = "450789469",
) -> OrderEvent:
    """A later version of :func:`order_event` (its own event id): line quantities by line id (0 or
    missing from a given mapping = removed), extra lines, another ship-to address."""
    base = order_event(change, name)
    lines = [
        line.model_copy(update={"quantity": (quantities or {}).get(line.line_id, 0)})
        if quantities is not None
        else line
        for line in base.order.lines
    ]
    order = base.order.model_copy(
        update={"lines": [*lines, *(added or [])], "shipping_address": shipping_address}
    )
    metadata = base.metadata.model_copy(
        update={"event_id": _id(f"event/order/{name}/{change.value}/{version}")}
    )
    return base.model_copy(update={"order": order, "metadata": metadata})


def journal_entry() -> JournalEntryEvent:
    entry_id = _id("journal/order-450789469")
    lines = [
        ("1210", EntrySide.DEBIT, "423.68", "Stripe clearing"),
        ("4000", EntrySide.CREDIT, "391.00", "Product revenue"),
        ("4000", EntrySide.CREDIT, "10.00", "Shipping revenue"),
        ("2200", EntrySide.CREDIT, "22.68", "Sales tax payable"),
    ]
    return JournalEntryEvent(
        metadata=_meta(
            "journal/450789469", "journal_entry.posted", PLACED, system="esb", entity="journal-entry"
        ),
        entry_id=entry_id,
        kind=JournalEntryKind.POSTED,
        legal_entity="US01",
        posting_date=date(2024, 4, 1),
        functional_currency="USD",
        description="Shopify order #1001",
        source_document=DocumentRef(
            type="order", id=str(canonical_id("shopify", SHOP, "order", "450789469"))
        ),
        lines=[
            JournalLine(
                line_no=number,
                account=account,
                side=side,
                amount=usd(value),
                functional_amount=usd(value),
                dimensions={"channel": "shopify", "department": "ecommerce"},
                memo=memo,
            )
            for number, (account, side, value, memo) in enumerate(lines, start=1)
        ],
        accounting_period="2024-04",
    )


def golden_customer() -> GoldenCustomer:
    return GoldenCustomer(
        metadata=_meta(
            "golden/bob", "golden_customer.updated", PLACED, system="esb", entity="golden-customer"
        ),
        golden_id=_id("golden/bob"),
        revision=3,
        email="bob.norman@example.com",
        phone="+15555555555",
        first_name="Bob",
        last_name="Norman",
        addresses=[SHIP_TO],
        members=[SourceRef(system="shopify", account=SHOP, entity="customer", native_id="207119551")],
        summary=CustomerSummary(order_count=1, lifetime_value=[usd("423.68")]),
    )


FULFILLMENT_ORDER_ID = _id("fo/450789469/WH-ONTARIO")


def routed_order(
    revision: int = 1,
    entity: str | None = "US01",
    status: str = "ROUTED",
    fulfillment_order_id: uuid.UUID | None = None,
) -> RoutedOrderEvent:
    return RoutedOrderEvent(
        metadata=_meta(f"route/450789469/{revision}", "order.routed", PLACED, system="esb", entity="route"),
        status=RoutingStatus(status),
        order_id=canonical_id("shopify", SHOP, "order", "450789469"),
        order_native_id="450789469",
        channel="shopify",
        account=SHOP,
        placed_at=PLACED,
        erp_entity=entity,
        rules_version="2024-04-01",
        revision=revision,
        allocations=[
            RoutedLine(
                order_line_id="466157049",
                sku="IPOD2008GREEN",
                quantity=2,
                location="WH-ONTARIO",
                fulfillment_order_id=fulfillment_order_id,
            ),
            RoutedLine(order_line_id="518995019", sku="CABLE-USB-C", quantity=3, location=None),
        ],
    )


def stock_movement(kind: MovementKind = MovementKind.ADJUSTMENT) -> StockMovementEvent:
    return StockMovementEvent(
        metadata=_meta("movement/cycle-count-7", "stock.adjusted", PLACED, system="edi", entity="adjustment"),
        movement_id=_id("movement/cycle-count-7"),
        kind=kind,
        sku="IPOD2008GREEN",
        location="WH-ONTARIO",
        quantity=-3,
        reason="cycle count: damaged",
        unit_cost=usd("120.5"),
    )


def inventory_level(available_to_promise: int | None = 5) -> InventoryLevel:
    return InventoryLevel(
        metadata=_meta(
            "level/IPOD2008GREEN/WH-ONTARIO/42", "inventory.level", PLACED, system="esb", entity="level"
        ),
        sku="IPOD2008GREEN",
        location="WH-ONTARIO",
        on_hand=12,
        reserved=4,
        available=8,
        as_of=PLACED,
        safety_stock=3,
        available_to_promise=available_to_promise,
        revision=42,
    )


def fulfillment_order(change: FulfillmentChange = FulfillmentChange.CREATED) -> FulfillmentOrderEvent:
    return FulfillmentOrderEvent(
        metadata=_meta(
            f"fo/450789469/{change.value}", "fulfillment_order.created", PLACED, system="esb", entity="fo"
        ),
        change=change,
        fulfillment_order_id=FULFILLMENT_ORDER_ID,
        order_id=canonical_id("shopify", SHOP, "order", "450789469"),
        order_native_id="#1001",
        location="WH-ONTARIO",
        lines=[
            FulfillmentOrderLine(order_line_id="466157049", sku="IPOD2008GREEN", quantity=2),
            FulfillmentOrderLine(order_line_id="518995019", sku="CABLE-USB-C", quantity=3),
        ],
        shipping_address=SHIP_TO,
        shipping_method="UPS Ground",
        requested_ship_date=datetime(2024, 4, 2, 14, 0, tzinfo=UTC),
    )


def shipment() -> ShipmentEvent:
    return ShipmentEvent(
        metadata=_meta("shipment/BOL12345", "shipment.created", PLACED, system="edi", entity="shipment"),
        change=FulfillmentChange.CREATED,
        shipment_id=_id("shipment/BOL12345"),
        order_id=canonical_id("shopify", SHOP, "order", "450789469"),
        native_id="BOL12345",
        status=ShipmentStatus.SHIPPED,
        carrier="UPS",
        tracking=[Tracking(number="1Z2345", url="https://www.ups.com/track?tracknum=1Z2345")],
        lines=[ShipmentLine(order_line_id="466157049", sku="IPOD2008GREEN", quantity=2)],
        shipped_at=PLACED,
    )


def shopify_order_lines() -> list[OrderLineRef]:
    """The sample order's lines as the Shopify fulfillment sees them."""
    return [
        OrderLineRef(line.line_id, line.sku, line.quantity)
        for line in order_event().order.lines
        if line.line_id and line.sku
    ]


def warehouse_shipment(reference: str | None = None, **changes: Any) -> ShipmentEvent:
    """A 945 from the Ontario 3PL as the translator emits it: the order id is the 3PL's W06-02
    (default: our 940's depositor order number), the line ids are LX numbers."""
    ref = reference or document_number(FULFILLMENT_ORDER_ID, 22)
    event = ShipmentEvent(
        metadata=EventMetadata(
            event_id=_id(f"event/945/{ref}"),
            event_type="shipment.shipped",
            occurred_at=PLACED,
            ingested_at=_INGESTED,
            source=SourceRef(system="edi", account="ontario-3pl", entity="945", native_id="SHP-7781"),
        ),
        change=FulfillmentChange.CREATED,
        shipment_id=canonical_id("edi", "ontario-3pl", "shipment", "SHP-7781"),
        order_id=canonical_id("edi", "ontario-3pl", "order", ref),
        fulfillment_order_id=canonical_id("edi", "ontario-3pl", "fulfillment-order", ref),
        native_id="SHP-7781",
        location="WH-ONTARIO",
        status=ShipmentStatus.SHIPPED,
        carrier="UPS",
        service="GROUND",
        tracking=[Tracking(number="1Z999AA10123456784")],
        lines=[
            ShipmentLine(order_line_id="1", sku="IPOD2008GREEN", quantity=2),
            ShipmentLine(order_line_id="2", sku="CABLE-USB-C", quantity=1),
        ],
        shipped_at=PLACED,
    )
    return event.model_copy(update=changes)


NETSUITE = NetSuiteTarget(
    account="1234567",
    timezone="America/New_York",
    subsidiary_id="1",
    customer_ids={"shopify": "1842"},
    currency_ids={"USD": "1", "EUR": "4"},
    item_ids={"IPOD2008GREEN": "57"},
    location_ids={"WH-ONTARIO": "2"},
    account_ids={"1210": "312", "4000": "54", "2200": "110"},
    period_ids={"2024-04": "148"},
    department_ids={"ecommerce": "3"},
    class_ids={"shopify": "7"},
    discount_item_id="-6",
    adjustment_account_id="236",
)
BUSINESS_CENTRAL = BusinessCentralTarget(
    account="contoso-production",
    timezone="America/New_York",
    company_id="f2a5738a-44e3-ea11-bb43-000d3a2feca1",
    journal_id="dd1b6a90-44e3-ea11-bb43-000d3a2feca1",
    customer_numbers={"shopify": "WEB-SHOPIFY"},
    item_numbers={"IPOD2008GREEN": "1996-S"},
    account_numbers={"1210": "2910", "4000": "6110", "2200": "5610"},
    local_currency="USD",
)
SAP = SapTarget(
    account="S4HCLNT400",
    timezone="America/Chicago",
    client="400",
    sender_partner="ESBCLNT",
    receiver_port="SAPHE4",
    receiver_partner="HE4CLNT400",
    sales_org="1710",
    distribution_channel="10",
    division="00",
    sold_to={"shopify": "1000654"},
    material_numbers={"IPOD2008GREEN": "MZ-FG-S10"},
)
WMS = WmsTarget(
    account="ontario-3pl",
    timezone="America/Los_Angeles",
    sender_id="ACMEESB",
    receiver_id="ONTARIO3PL",
    gs_sender="ACMEESB",
    gs_receiver="ONTARIO3PL",
    depositor="ACME RETAIL",
    warehouses={"WH-ONTARIO": "0581493780140"},
)
SHOPIFY = ShopifyTarget(
    account=SHOP,
    location_ids={"WH-ONTARIO": "655441491"},
    inventory_item_ids={"IPOD2008GREEN": "808950810"},
)


def settings(**overrides: object) -> EgressSettings:
    values: dict[str, object] = {
        "routed_orders_topic": "",  # orders go to order_targets unless a test routes them
        "order_targets": ["netsuite", "business-central", "sap"],
        "journal_targets": ["netsuite", "business-central"],
        "customer_targets": ["netsuite", "business-central"],
        "netsuite": NETSUITE,
        "business_central": BUSINESS_CENTRAL,
        "sap": SAP,
        "wms": WMS,
        "shopify": SHOPIFY,
    }
    values.update(overrides)
    return EgressSettings(**values)  # type: ignore[arg-type]
