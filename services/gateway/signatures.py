"""Webhook signature schemes, one pure verifier per provider; every comparison is constant-time.

- Shopify: ``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(secret, raw body)).
- WooCommerce: ``X-WC-Webhook-Signature`` = base64(HMAC-SHA256(secret, raw body)).
- Stripe: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]``; v1 = hex(HMAC-SHA256(secret,
  "<t>.<raw body>")); any v1 entry may match (secret rotation); ``t`` within the tolerance both ways.
- Adyen (classic notifications): per NotificationRequestItem, ``additionalData.hmacSignature`` =
  base64(HMAC-SHA256(unhex(key), "pspReference:originalReference:merchantAccountCode:
  merchantReference:value:currency:eventCode:success")), absent fields as empty strings.
- Generic: ``X-ESB-Signature: v1=<hex>`` over "<X-ESB-Timestamp>.<raw body>", Stripe's scheme.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "ADYEN_SIGNED_FIELDS",
    "InvalidSignatureError",
    "adyen_signature",
    "adyen_signing_string",
    "hmac_sha256_base64",
    "timestamped_signature",
    "verify_adyen_items",
    "verify_base64_hmac",
    "verify_timestamped",
]

ADYEN_SIGNED_FIELDS = (
    "pspReference",
    "originalReference",
    "merchantAccountCode",
    "merchantReference",
    "value",
    "currency",
    "eventCode",
    "success",
)


class InvalidSignatureError(Exception):
    """The request is not provably from the provider: answer 401 and write nothing."""

    def __init__(self, reason: str) -> None:
        # The reason is safe to log: it never contains a secret or a signature value.
        super().__init__(reason)
        self.reason = reason


def hmac_sha256_base64(secret: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode("ascii")


def verify_base64_hmac(body: bytes, header: str | None, secret: str) -> None:
    """Shopify and WooCommerce: base64 HMAC-SHA256 of the raw body."""
    if not header:
        raise InvalidSignatureError("signature header missing")
    expected = hmac_sha256_base64(secret.encode("utf-8"), body)
    if not hmac.compare_digest(expected.encode("ascii"), header.strip().encode("utf-8", "replace")):
        raise InvalidSignatureError("signature mismatch")


def timestamped_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Stripe's v1 signature (also the generic scheme): hex HMAC-SHA256 over ``"<t>.<body>"``."""
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def _parse_timestamped_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise InvalidSignatureError("timestamp is not an integer") from None
        elif key == "v1":
            signatures.append(value)
    if timestamp is None:
        raise InvalidSignatureError("timestamp missing")
    if not signatures:
        raise InvalidSignatureError("no v1 signature")
    return timestamp, signatures


def verify_timestamped(body: bytes, header: str | None, secret: str, *, now: float, tolerance_s: int) -> int:
    """Verify a ``t=...,v1=...`` header; returns the signed timestamp."""
    if not header:
        raise InvalidSignatureError("signature header missing")
    timestamp, candidates = _parse_timestamped_header(header)
    expected = timestamped_signature(secret, timestamp, body).encode("ascii")
    # Compare against every candidate so the time taken does not reveal which one matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    if not matched:
        raise InvalidSignatureError("signature mismatch")
    # Checked after the HMAC so a forged timestamp cannot be told apart from a stale one.
    if abs(now - timestamp) > tolerance_s:
        raise InvalidSignatureError("timestamp outside tolerance")
    return timestamp


def _adyen_field(item: Mapping[str, Any], name: str) -> str:
    if name in ("value", "currency"):
        amount = item.get("amount")
        raw = amount.get(name) if isinstance(amount, Mapping) else None
    else:
        raw = item.get(name)
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def adyen_signing_string(item: Mapping[str, Any]) -> str:
    return ":".join(_adyen_field(item, name) for name in ADYEN_SIGNED_FIELDS)


def adyen_signature(item: Mapping[str, Any], hex_key: str) -> str:
    key = binascii.unhexlify(hex_key)
    return hmac_sha256_base64(key, adyen_signing_string(item).encode("utf-8"))


def verify_adyen_items(items: Iterable[Mapping[str, Any]], hex_key: str) -> None:
    """Every NotificationRequestItem must carry a valid ``additionalData.hmacSignature``."""
    count = 0
    for item in items:
        count += 1
        additional = item.get("additionalData")
        given = additional.get("hmacSignature") if isinstance(additional, Mapping) else None
        if not isinstance(given, str) or not given:
            raise InvalidSignatureError("hmacSignature missing")
        expected = adyen_signature(item, hex_key)
        if not hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace")):
            raise InvalidSignatureError("signature mismatch")
    if count == 0:
        raise InvalidSignatureError("no notification items")
