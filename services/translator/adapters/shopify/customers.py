"""Shopify customers -> CustomerEvent (``customers/*`` body, ``{"customer": ...}``, ``{"customers": [...]}``).

``email_marketing_consent``/``sms_marketing_consent`` replace the deprecated ``accepts_marketing``.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.customers.models import ConsentState, CustomerChange, CustomerEvent, SourceCustomer
from services.translator.adapters._common import canonical, change_is_new, document, route, unwrap
from services.translator.adapters.shopify._shared import address, tags
from services.translator.ingress import IngressRecord
from services.translator.json_reader import JsonNode
from services.translator.metadata import event_metadata

__all__ = ["translate_customers"]

CONSENT = {
    "subscribed": ConsentState.SUBSCRIBED,
    "not_subscribed": ConsentState.NOT_SUBSCRIBED,
    "unsubscribed": ConsentState.UNSUBSCRIBED,
    "pending": ConsentState.PENDING,
}
CHANGE_BY_TOPIC = {
    "customers/create": CustomerChange.CREATED,
    "customers/update": CustomerChange.UPDATED,
    "customers/delete": CustomerChange.DELETED,
    "customers/disable": CustomerChange.UPDATED,
    "customers/enable": CustomerChange.UPDATED,
}


@route
def translate_customers(record: IngressRecord) -> Sequence[CustomerEvent]:
    return [_customer(record, node) for node in unwrap(document(record), "customer", "customers")]


def _consent(node: JsonNode, legacy: JsonNode) -> ConsentState:
    """``*_marketing_consent.state``; before 2022 only the ``accepts_marketing`` boolean existed."""
    state = node["state"].opt_text() if node.is_present else None
    if state is not None:
        return CONSENT.get(state, ConsentState.UNKNOWN)
    accepts = legacy.opt_boolean()
    if accepts is None:
        return ConsentState.UNKNOWN
    return ConsentState.SUBSCRIBED if accepts else ConsentState.NOT_SUBSCRIBED


def _customer(record: IngressRecord, node: JsonNode) -> CustomerEvent:
    native_id = node["id"].text()
    created_at = node["created_at"].opt_timestamp()
    updated_at = node["updated_at"].opt_timestamp()
    addresses_nodes = list(node["addresses"].items()) or (
        [node["default_address"]] if node["default_address"].is_present else []
    )
    addresses = [a for a in (address(n) for n in addresses_nodes) if a is not None]
    default_index = next((i for i, n in enumerate(addresses_nodes) if n["default"].opt_boolean(False)), None)
    change = CHANGE_BY_TOPIC.get(record.provider_topic or "")
    if change is None:
        new = created_at is not None and change_is_new(created_at, updated_at)
        change = CustomerChange.CREATED if new else CustomerChange.UPDATED
    customer = SourceCustomer(
        customer_id=canonical(record, "customer", native_id),
        native_id=native_id,
        email=node["email"].opt_text(),
        phone=node["phone"].opt_text(),
        first_name=node["first_name"].opt_text(),
        last_name=node["last_name"].opt_text(),
        company=node.path_get("default_address", "company").opt_text(),
        addresses=addresses,
        default_address_index=default_index
        if default_index is not None and default_index < len(addresses)
        else None,
        email_marketing=_consent(node["email_marketing_consent"], node["accepts_marketing"]),
        sms_marketing=_consent(node["sms_marketing_consent"], JsonNode(None)),
        state=node["state"].opt_text(),
        tax_exempt=bool(node["tax_exempt"].opt_boolean(False)),
        tags=tags(node["tags"]),
        note=node["note"].opt_text(),
        created_at=created_at,
        updated_at=updated_at,
    )
    occurred = updated_at or created_at or record.received_at
    metadata = event_metadata(
        record,
        event_type=f"customer.{change.lower()}",
        entity="customer",
        native_id=native_id,
        occurred_at=occurred,
    )
    return CustomerEvent(metadata=metadata, change=change, customer=customer)
