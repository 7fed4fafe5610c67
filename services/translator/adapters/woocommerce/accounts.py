"""WooCommerce customers -> CustomerEvent; products -> ABSOLUTE_COUNT stock movements (store stock)."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.customers.models import CustomerChange, CustomerEvent, SourceCustomer
from schemas.inventory.models import StockMovementEvent
from services.translator.adapters._common import (
    absolute_count,
    canonical,
    change_is_new,
    document,
    item_key,
    location_code,
    quantity,
    route,
    unwrap,
)
from services.translator.adapters.woocommerce._shared import SYSTEM, address, utc
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode
from services.translator.metadata import event_metadata

__all__ = ["translate_customers", "translate_products"]


@route
def translate_customers(record: IngressRecord) -> Sequence[CustomerEvent]:
    return [_customer_event(record, node) for node in unwrap(document(record), "customer", "customers")]


def _customer_event(record: IngressRecord, node: JsonNode) -> CustomerEvent:
    native_id = node["id"].text()
    created_at = utc(node, "date_created").opt_timestamp(naive_is_utc=True)
    updated_at = utc(node, "date_modified").opt_timestamp(naive_is_utc=True)
    addresses = [a for a in (address(node["billing"]), address(node["shipping"])) if a is not None]
    if record.provider_topic == "customer.deleted":
        change = CustomerChange.DELETED
    elif record.provider_topic == "customer.created" or (
        record.provider_topic is None and created_at and change_is_new(created_at, updated_at)
    ):
        change = CustomerChange.CREATED
    else:
        change = CustomerChange.UPDATED
    customer = SourceCustomer(
        customer_id=canonical(record, "customer", native_id),
        native_id=native_id,
        email=node["email"].text(),  # required by WooCommerce for every customer
        phone=node.path_get("billing", "phone").opt_text(),
        first_name=node["first_name"].opt_text(),
        last_name=node["last_name"].opt_text(),
        company=node.path_get("billing", "company").opt_text(),
        addresses=addresses,
        default_address_index=0 if addresses else None,
        state=node["role"].opt_text(),
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


@route
def translate_products(record: IngressRecord) -> Sequence[StockMovementEvent]:
    """A product's stock count; products that do not manage stock (or variable parents, whose
    stock lives on variations) yield no event."""
    return [
        level
        for node in unwrap(document(record), "product", "products")
        if (level := _stock_level(record, node)) is not None
    ]


def _stock_level(record: IngressRecord, node: JsonNode) -> StockMovementEvent | None:
    if not node["manage_stock"].boolean() or node["stock_quantity"].is_absent:
        return None
    native_id = node["id"].text()
    # WooCommerce reduces stock when an order is placed: stock_quantity is what can still be sold.
    available = quantity(node["stock_quantity"])
    as_of = utc(node, "date_modified").opt_timestamp(naive_is_utc=True) or record.received_at
    metadata = event_metadata(
        record, event_type="inventory.level", entity="product", native_id=native_id, occurred_at=as_of
    )
    return absolute_count(
        metadata,
        sku=item_key(node["sku"].opt_text(), SYSTEM, "product", native_id, node),
        location=location_code(SYSTEM, record.account),  # one stock pool per store
        on_hand=available,
        reason="woocommerce stock_quantity",
    )
