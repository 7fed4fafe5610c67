"""Helpers shared by the gateway tests: signing like each provider does, the conformance corpus."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from services.gateway.signatures import adyen_signature, timestamped_signature

__all__ = [
    "ADYEN_KEY",
    "CONFORMANCE",
    "TEST_PANS",
    "shopify_headers",
    "signed_adyen",
    "stripe_header",
    "woocommerce_headers",
]

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance"
ADYEN_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
# Public test card numbers of the card networks (Visa, Mastercard x2, Amex, Discover, JCB, Diners).
TEST_PANS = (
    "4111111111111111",
    "5555555555554444",
    "2223003122003222",
    "378282246310005",
    "6011111111111117",
    "3566002020360505",
    "36227206271667",
)


def _b64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_headers(body: bytes, secret: str, shop: str, topic: str, event_id: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-shopify-hmac-sha256": _b64_hmac(secret, body),
        "x-shopify-shop-domain": shop,
        "x-shopify-topic": topic,
        "x-shopify-event-id": event_id,
        "x-shopify-webhook-id": "wh-" + event_id,
    }


def woocommerce_headers(body: bytes, secret: str, source: str, topic: str, delivery: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-wc-webhook-signature": _b64_hmac(secret, body),
        "x-wc-webhook-source": source,
        "x-wc-webhook-topic": topic,
        "x-wc-webhook-delivery-id": delivery,
    }


def stripe_header(body: bytes, secret: str, timestamp: int) -> str:
    return f"t={timestamp},v1={timestamped_signature(secret, timestamp, body)}"


def signed_adyen(path: Path, key: str = ADYEN_KEY) -> bytes:
    """A conformance notification with each item's hmacSignature recomputed under ``key``."""
    payload: dict[str, Any] = json.loads(path.read_bytes())
    for entry in payload["notificationItems"]:
        item = entry["NotificationRequestItem"]
        item.setdefault("additionalData", {})["hmacSignature"] = adyen_signature(item, key)
    return json.dumps(payload, indent=2).encode()
