"""Magento 2 / Adobe Commerce REST: invoices, MSI source items, customers.

* An invoice is a **PaymentEvent of kind CAPTURE**: in Magento, invoicing is how an order's payment
  is captured (``state`` 2 = paid; 1 = open, awaiting capture; 3 = canceled). The order itself (lines,
  discounts, addresses) arrives as an order; what the invoice adds is money taken, which is what the
  ledger books. The amount is in the base (shop) currency, the presentment amount in the order
  currency. The invoice's items have no canonical home (see the README's schema notes).
* MSI ``sourceItems`` are absolute physical quantities per source: StockMovementEvent
  ``ABSOLUTE_COUNT`` per (SKU, source); salable quantity is Magento's own projection and not sent.
* ``created_at``/``updated_at`` are UTC without a zone designator.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.common.models import Address, Money
from schemas.customers.models import CustomerChange, CustomerEvent, SourceCustomer
from schemas.inventory.models import MovementKind, StockMovementEvent
from schemas.payments.models import PaymentEvent, PaymentEventKind, TransactionStatus
from services.translator.adapters._common import (
    Translate,
    amount,
    canonical,
    change_is_new,
    currency,
    document,
    location_code,
    route,
    unwrap,
)
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode
from services.translator.metadata import event_metadata

__all__ = ["ROUTES"]

SYSTEM = "magento"

# Magento\Sales\Model\Order\Invoice::STATE_* -> (kind, status)
INVOICE_STATE: dict[int, tuple[PaymentEventKind, TransactionStatus]] = {
    1: (PaymentEventKind.CAPTURE, TransactionStatus.PENDING),
    2: (PaymentEventKind.CAPTURE, TransactionStatus.SUCCEEDED),
    3: (PaymentEventKind.VOID, TransactionStatus.SUCCEEDED),
}


@route
def translate_invoices(record: IngressRecord) -> Sequence[PaymentEvent]:
    root = document(record)
    nodes = list(root["items"].items()) if root["total_count"].is_present else [root]  # search results
    return [_invoice(record, node) for node in nodes]


def _invoice(record: IngressRecord, node: JsonNode) -> PaymentEvent:
    native_id = node["entity_id"].text()
    order_native = node["order_id"].text()
    base = currency(node["base_currency_code"])
    order_currency = currency(node["order_currency_code"])
    state = node["state"].integer()
    if state not in INVOICE_STATE:
        raise TranslationError(node["state"].path, "invoice state 1 (open), 2 (paid) or 3 (canceled)", state)
    kind, status = INVOICE_STATE[state]
    created_at = node["created_at"].timestamp(naive_is_utc=True)
    updated_at = node["updated_at"].opt_timestamp(naive_is_utc=True)
    metadata = event_metadata(
        record,
        event_type=f"payment.{kind.lower()}",
        entity="invoice",
        native_id=native_id,
        occurred_at=updated_at or created_at,
    )
    return PaymentEvent(
        metadata=metadata,
        kind=kind,
        status=status,
        # Magento keeps one payment per order (sales_order_payment): the order is the payment.
        payment_id=canonical(record, "order_payment", order_native),
        transaction_id=canonical(record, "invoice", native_id),
        processor=SYSTEM,
        processor_reference=node["increment_id"].opt_text() or native_id,
        parent_reference=node["transaction_id"].opt_text(),
        order_id=canonical(record, "order", order_native),
        order_native_id=order_native,
        amount=Money(amount=amount(node["base_grand_total"]), currency=base),
        presentment_amount=Money(amount=amount(node["grand_total"]), currency=order_currency),
        processed_at=created_at,
    )


@route
def translate_source_items(record: IngressRecord) -> Sequence[StockMovementEvent]:
    root = document(record)
    # POST /V1/inventory/source-items body, or a search result {items, total_count}.
    items = root["sourceItems"] if root["sourceItems"].is_present else root["items"]
    if items.is_absent:
        raise TranslationError(items.path, "sourceItems[] or items[]", items.value)
    return [_source_item(record, node, index) for index, node in enumerate(items.items())]


def _source_item(record: IngressRecord, node: JsonNode, index: int) -> StockMovementEvent:
    sku = node["sku"].text()
    source = node["source_code"].text()
    counted = node["quantity"].decimal()
    if counted != counted.to_integral_value() or abs(counted) > 10**9:
        # Decimal quantities (qty-uses-decimals products) have no place in an integer count.
        raise TranslationError(node["quantity"].path, "a whole number of units", node["quantity"].value)
    in_stock = node["status"].integer() == 1 if node["status"].is_present else None
    native = f"{sku}@{source}"
    metadata = event_metadata(
        record,
        event_type="stock.counted",
        entity="source_item",
        native_id=native,
        occurred_at=record.received_at,  # the source item carries no time of its own
        discriminator=str(index),
    )
    return StockMovementEvent(
        metadata=metadata,
        movement_id=metadata.event_id,  # one count per delivery and item: replays keep the id
        kind=MovementKind.ABSOLUTE_COUNT,
        sku=sku,
        location=location_code(SYSTEM, source),
        quantity=int(counted),
        reason=None if in_stock is None else ("in stock" if in_stock else "set out of stock"),
    )


@route
def translate_customers(record: IngressRecord) -> Sequence[CustomerEvent]:
    return [_customer(record, node) for node in unwrap(document(record), "customer", "items")]


def _address(node: JsonNode) -> Address:
    country = node["country_id"].opt_text()
    region = node["region"]
    code = region["region_code"].opt_text() if isinstance(region.value, dict) else None
    region_name = region["region"].opt_text() if isinstance(region.value, dict) else region.opt_text()
    name = " ".join(p for p in (node["firstname"].opt_text(), node["lastname"].opt_text()) if p)
    return Address(
        name=name or None,
        company=node["company"].opt_text(),
        street_lines=[line.text() for line in node["street"].items() if line.opt_text()],
        city=node["city"].opt_text(),
        region=region_name,
        region_code=f"{country}-{code}" if country and code else None,
        postal_code=node["postcode"].opt_text(),
        country_code=country,
        phone=node["telephone"].opt_text(),
    )


def _customer(record: IngressRecord, node: JsonNode) -> CustomerEvent:
    native_id = node["id"].text()
    created_at = node["created_at"].opt_timestamp(naive_is_utc=True)
    updated_at = node["updated_at"].opt_timestamp(naive_is_utc=True)
    address_nodes = list(node["addresses"].items())
    default_id = node["default_shipping"].opt_text() or node["default_billing"].opt_text()
    default_index = next((i for i, a in enumerate(address_nodes) if a["id"].opt_text() == default_id), None)
    change = (
        CustomerChange.CREATED
        if created_at and change_is_new(created_at, updated_at)
        else CustomerChange.UPDATED
    )
    customer = SourceCustomer(
        customer_id=canonical(record, "customer", native_id),
        native_id=native_id,
        email=node["email"].text(),
        first_name=node["firstname"].opt_text(),
        last_name=node["lastname"].opt_text(),
        addresses=[_address(a) for a in address_nodes],
        default_address_index=default_index,
        created_at=created_at,
        updated_at=updated_at,
    )
    metadata = event_metadata(
        record,
        event_type=f"customer.{change.lower()}",
        entity="customer",
        native_id=native_id,
        occurred_at=updated_at or created_at or record.received_at,
    )
    return CustomerEvent(metadata=metadata, change=change, customer=customer)


ROUTES: dict[tuple[str, str], Translate] = {
    ("magento", "invoices"): translate_invoices,
    ("magento", "source-items"): translate_source_items,
    ("magento", "customers"): translate_customers,
}
