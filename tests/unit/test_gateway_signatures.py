from __future__ import annotations

import json
import time

import pytest

from services.gateway import signatures
from services.gateway.signatures import InvalidSignatureError
from tests.gateway_support import ADYEN_KEY, CONFORMANCE, signed_adyen, stripe_header

pytestmark = pytest.mark.unit

# Test vectors published in Adyen's Java library (HMACValidatorTest).
ADYEN_JAVA_KEY = "9064450A8892A093D9E97EFCC9639DE31B74F3A7803135555A3C96F5A57915D6"


def test_adyen_matches_the_vendor_library_vectors() -> None:
    assert signatures.hmac_sha256_base64(bytes.fromhex(ADYEN_JAVA_KEY), b"TestPayload") == (
        "YA9/UDjldIO4Gq68X4ATYYoEaPYH4f4k2uzBBzEF1PA="
    )
    item = {
        "additionalData": {"hmacSignature": "NuEkADFmlCC6VgX+wcoPAegIWxVPNBPCuKlM4Hzo5qc="},
        "amount": {"currency": "EUR", "value": 0},
        "eventCode": "REPORT_AVAILABLE",
        "merchantAccountCode": "Magento2Rik",
        "merchantReference": "testMerchantRef1",
        "pspReference": "test_REPORT_AVAILABLE",
        "success": "true",
    }
    signatures.verify_adyen_items([item], ADYEN_JAVA_KEY)


def test_adyen_signing_string_leaves_absent_fields_empty() -> None:
    item = {"pspReference": "p", "merchantAccountCode": "m", "eventCode": "E", "success": "true"}
    assert signatures.adyen_signing_string(item) == "p::m::::E:true"


@pytest.mark.parametrize("name", ["authorisation-true", "refund-true", "capture-true"])
def test_adyen_conformance_notifications_verify_and_tampering_fails(name: str) -> None:
    payload = json.loads(signed_adyen(CONFORMANCE / "adyen" / f"notification_{name}.json"))
    items = [entry["NotificationRequestItem"] for entry in payload["notificationItems"]]
    signatures.verify_adyen_items(items, ADYEN_KEY)
    items[0]["amount"]["value"] += 1
    with pytest.raises(InvalidSignatureError, match="mismatch"):
        signatures.verify_adyen_items(items, ADYEN_KEY)


def test_adyen_rejects_missing_signature_and_empty_batches() -> None:
    with pytest.raises(InvalidSignatureError, match="missing"):
        signatures.verify_adyen_items([{"pspReference": "x"}], ADYEN_KEY)
    with pytest.raises(InvalidSignatureError, match="no notification items"):
        signatures.verify_adyen_items([], ADYEN_KEY)


def test_shopify_style_base64_hmac() -> None:
    body = b'{"id":1}'
    good = signatures.hmac_sha256_base64(b"s3cret", body)
    signatures.verify_base64_hmac(body, good, "s3cret")
    for header in (None, "", good[:-2] + "AA", signatures.hmac_sha256_base64(b"other", body)):
        with pytest.raises(InvalidSignatureError):
            signatures.verify_base64_hmac(body, header, "s3cret")
    with pytest.raises(InvalidSignatureError):
        signatures.verify_base64_hmac(body + b" ", good, "s3cret")


def test_stripe_accepts_any_v1_within_tolerance() -> None:
    body = b'{"id":"evt_1"}'
    now = time.time()
    ts = int(now) - 299
    header = stripe_header(body, "whsec_a", ts)
    rotated = f"t={ts},v1={'0' * 64},{header.split(',')[1]},v0=ignored"
    assert signatures.verify_timestamped(body, header, "whsec_a", now=now, tolerance_s=300) == ts
    assert signatures.verify_timestamped(body, rotated, "whsec_a", now=now, tolerance_s=300) == ts


@pytest.mark.parametrize("skew", [-301, 301])
def test_stripe_rejects_stale_and_future_timestamps(skew: int) -> None:
    body = b"{}"
    now = 1_700_000_000.0
    header = stripe_header(body, "whsec_a", int(now) + skew)
    with pytest.raises(InvalidSignatureError, match="tolerance"):
        signatures.verify_timestamped(body, header, "whsec_a", now=now, tolerance_s=300)


@pytest.mark.parametrize(
    ("header", "reason"),
    [(None, "missing"), ("v1=abc", "timestamp missing"), ("t=1", "no v1"), ("t=x,v1=ab", "integer")],
)
def test_stripe_rejects_malformed_headers(header: str | None, reason: str) -> None:
    with pytest.raises(InvalidSignatureError, match=reason):
        signatures.verify_timestamped(b"{}", header, "whsec_a", now=1.0, tolerance_s=300)


def test_stripe_rejects_a_signature_by_another_secret() -> None:
    now = time.time()
    header = stripe_header(b"{}", "whsec_other", int(now))
    with pytest.raises(InvalidSignatureError, match="mismatch"):
        signatures.verify_timestamped(b"{}", header, "whsec_a", now=now, tolerance_s=300)
