"""Sign a demo event the way its provider does and turn it into the HTTP request the gateway expects.

The formats are those ``services/gateway/signatures.py`` verifies (Shopify/WooCommerce base64
HMAC-SHA256 of the body, Stripe ``t=..,v1=..``, Adyen per-item HMAC over the documented fields,
the generic ``X-ESB-Signature``).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from esb.demo.generator import DemoEvent
from esb.demo.secrets import DemoSecrets
from services.gateway.signatures import adyen_signature, hmac_sha256_base64, timestamped_signature

__all__ = ["SignedRequest", "sign"]


@dataclass(frozen=True, slots=True)
class SignedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def sign(event: DemoEvent, secrets: DemoSecrets, now: int) -> SignedRequest:
    """``now``: unix seconds, for the timestamped schemes."""
    headers = {"Content-Type": "application/json"}
    if event.provider == "adyen":
        body_doc = copy.deepcopy(event.body)
        for wrapper in body_doc["notificationItems"]:
            item = wrapper["NotificationRequestItem"]
            item["additionalData"]["hmacSignature"] = adyen_signature(item, secrets.adyen_hmac_key)
        return SignedRequest("/webhooks/adyen", headers, _json(body_doc))
    body = _json(event.body)
    if event.provider == "shopify":
        headers |= {
            "X-Shopify-Topic": event.provider_topic,
            "X-Shopify-Shop-Domain": secrets.shopify_shop,
            "X-Shopify-Event-Id": event.event_id,
            "X-Shopify-Webhook-Id": event.event_id,
            "X-Shopify-API-Version": "2024-04",
            "X-Shopify-Hmac-Sha256": hmac_sha256_base64(secrets.shopify_secret.encode(), body),
        }
        return SignedRequest("/webhooks/shopify", headers, body)
    if event.provider == "woocommerce":
        headers |= {
            "X-WC-Webhook-Topic": event.provider_topic,
            "X-WC-Webhook-Source": f"https://{secrets.woocommerce_account}.example.com/",
            "X-WC-Webhook-Delivery-ID": event.event_id,
            "X-WC-Webhook-Signature": hmac_sha256_base64(secrets.woocommerce_secret.encode(), body),
        }
        return SignedRequest(f"/webhooks/woocommerce/{event.account}", headers, body)
    if event.provider == "stripe":
        signature = timestamped_signature(secrets.stripe_secret, now, body)
        headers["Stripe-Signature"] = f"t={now},v1={signature}"
        return SignedRequest("/webhooks/stripe", headers, body)
    if event.provider == "generic":
        headers |= {
            "X-ESB-Timestamp": str(now),
            "X-ESB-Event-Id": event.event_id,
            "X-ESB-Topic": event.provider_topic,
            "X-ESB-Signature": "v1=" + timestamped_signature(secrets.generic_secret, now, body),
        }
        key = event.keys.get("order") or event.keys.get("sku")
        if key:
            headers["X-ESB-Key"] = key
        return SignedRequest(f"/webhooks/generic/{event.account}", headers, body)
    raise ValueError(f"no signer for provider {event.provider!r}")
