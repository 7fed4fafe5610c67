"""The contract of ``ingress.<system>.<entity>`` topics: native bytes plus these headers.

The gateway and the file ingester write them; the translator reads them. Values are UTF-8 strings.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["IngressHeader", "ingress_topic"]


class IngressHeader(StrEnum):
    SOURCE_SYSTEM = "esb-source-system"
    """shopify, woocommerce, amazon, stripe, adyen, magento, netsuite, business-central, sap, edi..."""
    ENTITY = "esb-entity"
    """native entity family when it differs from the topic's last part (optional)"""
    ACCOUNT = "esb-source-account"
    """shop domain, store URL, seller id, merchant account: the tenant inside the system"""
    PROVIDER_EVENT_ID = "esb-event-id"
    """the source's own delivery/event id (X-Shopify-Webhook-Id, Stripe event id...); dedupe key"""
    PROVIDER_TOPIC = "esb-event-topic"
    """the source's own event name: orders/create, charge.succeeded, AUTHORISATION..."""
    RECEIVED_AT = "esb-received-at"
    """ISO-8601 UTC instant at which the bus received the bytes"""
    CONTENT_TYPE = "content-type"
    API_VERSION = "esb-api-version"
    SHOP_CURRENCY = "esb-shop-currency"
    """ISO 4217 currency of the store/account, for payloads that omit it (WooCommerce refunds)"""
    REDACTIONS = "esb-redactions"
    """how many card numbers / CVVs were masked before the write (absent when none)"""
    TRACEPARENT = "traceparent"
    """W3C trace context of the span that received the event"""
    TRACESTATE = "tracestate"


def ingress_topic(system: str, entity: str, prefix: str = "") -> str:
    """``ingress.<system>.<entity>``, optionally prefixed (tests use a unique prefix)."""
    return f"{prefix}ingress.{system}.{entity}"
