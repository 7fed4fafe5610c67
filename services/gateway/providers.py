"""Per-provider request handling before Kafka: find the secret, verify, name the event and its topic.

Each ``describe_*`` is pure: headers (lower-case names), raw body, the account from the URL path and
the clock in; an :class:`Inbound` out, or an exception that maps to one HTTP status.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from services.gateway import signatures, topics
from services.gateway.settings import GatewaySettings

__all__ = [
    "PROVIDERS",
    "BadRequestError",
    "Inbound",
    "NotConfiguredError",
    "PingOnlyError",
    "UnknownAccountError",
    "describe",
]

Headers = Mapping[str, str]


class UnknownAccountError(Exception):
    """No secret is configured for this shop/account: answer 401 (the same as a bad signature)."""


class NotConfiguredError(Exception):
    """The provider has no secrets at all, or is unknown: answer 404."""


class BadRequestError(Exception):
    """Authentic but unusable (missing event id or topic): answer 400, the provider should not retry."""


class PingOnlyError(Exception):
    """A provider's endpoint check (WooCommerce ping): answer 200 and write nothing."""


@dataclass(frozen=True, slots=True)
class Inbound:
    """What the gateway knows about one verified webhook."""

    system: str
    account: str
    event_id: str
    event_topic: str
    entity: str
    key: str | None

    @property
    def dedupe_key(self) -> str:
        return f"{self.system}/{self.account}/{self.event_id}"


@dataclass(frozen=True, slots=True)
class Request:
    headers: Headers
    body: bytes
    path_account: str | None
    settings: GatewaySettings
    now: float


def _secret(secrets: Mapping[str, SecretStr], account: str) -> str:
    if not secrets:
        raise NotConfiguredError
    secret = secrets.get(account)
    if secret is None:
        raise UnknownAccountError(account)
    return secret.get_secret_value()


def _required(headers: Headers, name: str) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise BadRequestError(f"header {name} missing")
    return value


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _key(account: str, value: object) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
        return f"{account}/{value}"
    return None


def _describe_shopify(req: Request) -> Inbound:
    account = _required(req.headers, "x-shopify-shop-domain").lower()
    secret = _secret(req.settings.shopify_secrets, account)
    signatures.verify_base64_hmac(req.body, req.headers.get("x-shopify-hmac-sha256"), secret)
    # Shopify's guidance: the event id is the same across duplicate deliveries of one event.
    event_id = req.headers.get("x-shopify-event-id") or _required(req.headers, "x-shopify-webhook-id")
    topic = _required(req.headers, "x-shopify-topic")
    payload = _json(req.body)
    native = None
    if isinstance(payload, dict):
        native = payload.get("id", payload.get("inventory_item_id"))
    return Inbound("shopify", account, event_id, topic, topics.shopify_entity(topic), _key(account, native))


def _describe_woocommerce(req: Request) -> Inbound:
    topic = req.headers.get("x-wc-webhook-topic", "")
    if not topic and req.body.startswith(b"webhook_id="):
        # WooCommerce pings a new delivery URL unsigned; accept it, write nothing.
        raise PingOnlyError
    account = req.path_account or _required(req.headers, "x-wc-webhook-source")
    secret = _secret(req.settings.woocommerce_secrets, account)
    signatures.verify_base64_hmac(req.body, req.headers.get("x-wc-webhook-signature"), secret)
    event_id = _required(req.headers, "x-wc-webhook-delivery-id")
    if not topic:
        raise BadRequestError("header x-wc-webhook-topic missing")
    payload = _json(req.body)
    native = payload.get("id") if isinstance(payload, dict) else None
    entity = topics.woocommerce_entity(topic)
    return Inbound("woocommerce", account, event_id, topic, entity, _key(account, native))


def _describe_stripe(req: Request) -> Inbound:
    account = req.path_account or "default"
    secret = _secret(req.settings.stripe_secrets, account)
    signatures.verify_timestamped(
        req.body,
        req.headers.get("stripe-signature"),
        secret,
        now=req.now,
        tolerance_s=req.settings.signature_tolerance_s,
    )
    event = _json(req.body)
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise BadRequestError("Stripe event without an id")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    native = obj.get("id") if isinstance(obj, dict) else None
    return Inbound(
        "stripe", account, event["id"], str(event.get("type", "")), "events", _key(account, native)
    )


def _adyen_items(payload: object) -> list[dict[str, Any]]:
    wrapped = payload.get("notificationItems") if isinstance(payload, dict) else None
    if not isinstance(wrapped, list):
        return []
    items = [entry.get("NotificationRequestItem") for entry in wrapped if isinstance(entry, dict)]
    return [item for item in items if isinstance(item, dict)]


def _describe_adyen(req: Request) -> Inbound:
    account = req.path_account or "default"
    key = _secret(req.settings.adyen_hmac_keys, account)
    items = _adyen_items(_json(req.body))
    # Adyen signs fields, not the body: an unparseable body cannot be verified, so it is a 401.
    signatures.verify_adyen_items(items, key)
    event_id = ";".join(
        f"{item.get('pspReference', '')}:{item.get('eventCode', '')}:{item.get('success', '')}"
        for item in items
    )
    codes = sorted({str(item.get("eventCode", "")) for item in items})
    first = items[0]
    native = first.get("originalReference") or first.get("pspReference")
    return Inbound("adyen", account, event_id, ",".join(codes), "notifications", _key(account, native))


def _describe_generic(req: Request) -> Inbound:
    system = req.path_account
    if not system:
        raise NotConfiguredError
    secret = _secret(req.settings.generic_secrets, system)
    timestamp = req.headers.get("x-esb-timestamp", "")
    signature = req.headers.get("x-esb-signature", "")
    header = f"t={timestamp},{signature}" if timestamp and signature else None
    signatures.verify_timestamped(
        req.body, header, secret, now=req.now, tolerance_s=req.settings.signature_tolerance_s
    )
    event_id = _required(req.headers, "x-esb-event-id")
    topic = _required(req.headers, "x-esb-topic")
    entity = topic.partition("/")[0]
    return Inbound(system, system, event_id, topic, entity, _key(system, req.headers.get("x-esb-key")))


PROVIDERS: Mapping[str, Callable[[Request], Inbound]] = {
    "shopify": _describe_shopify,
    "woocommerce": _describe_woocommerce,
    "stripe": _describe_stripe,
    "adyen": _describe_adyen,
    "generic": _describe_generic,
}


def describe(
    provider: str,
    *,
    headers: Headers,
    body: bytes,
    path_account: str | None,
    settings: GatewaySettings,
    now: float,
) -> Inbound:
    """Authenticate one webhook and say where it goes; raises the exception that names the answer."""
    handler = PROVIDERS.get(provider)
    if handler is None:
        raise NotConfiguredError
    return handler(Request(headers, body, path_account, settings, now))
