"""The log redaction processor: secrets by key, SecretStr values, Luhn-valid card numbers, PII fields."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import structlog
from pydantic import SecretBytes, SecretStr

from bus.observability.redaction import (
    REDACTED,
    Redactor,
    find_card_numbers,
    luhn_valid,
    pii_field_names,
    redact_text,
)

pytestmark = pytest.mark.unit

VISA = "4111111111111111"
MASTERCARD_2_SERIES = "2223003122003222"
AMEX = "378282246310005"
MIR = "2200000000000004"  # 2200 prefix, Luhn-valid


def _run(event: dict[str, Any], redactor: Redactor | None = None) -> dict[str, Any]:
    return dict((redactor or Redactor())(None, "info", dict(event)))


@pytest.mark.parametrize("number", [VISA, MASTERCARD_2_SERIES, AMEX, MIR, "6011111111111117"])
def test_luhn_valid_card_numbers_are_found(number: str) -> None:
    assert luhn_valid(number)
    assert find_card_numbers(f"charged card {number} ok") == [number]


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "card=4111111111111111;",
        '{"pan": "5555555555554444"}',
    ],
)
def test_separated_and_embedded_card_numbers_are_masked(text: str) -> None:
    masked = redact_text(text)
    assert find_card_numbers(masked) == []
    assert REDACTED in masked


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails Luhn
        "20240131235959000",  # a timestamp: 2-series outside Mir/Mastercard ranges
        "order 1234567890123456 shipped",  # starts with 1: no card network
        "411111111111",  # 12 digits: too short
        "41111111111111111111",  # 20 digits: too long
    ],
)
def test_non_card_digit_runs_are_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_secret_keys_are_masked_whatever_the_value_type() -> None:
    event = {
        "event": "connecting",
        "sasl.password": "pw-1",
        "ssl_key_password": "pw-2",
        "Authorization": "Bearer abc",
        "api-key": 12345,
        "shopify_hmac": "c2lnbmF0dXJl",
        "client_secret": {"nested": "x"},
        "refresh_token": ["a", "b"],
        "topic": "canonical.orders.v1",
    }
    out = _run(event)
    for key in event:
        if key not in ("event", "topic"):
            assert out[key] == REDACTED, key
    assert out["topic"] == "canonical.orders.v1"
    assert out["event"] == "connecting"


def test_secretstr_values_are_masked_under_any_key() -> None:
    out = _run({"event": "x", "value": SecretStr("s3cr3t"), "raw": SecretBytes(b"b")})
    assert out["value"] == REDACTED
    assert out["raw"] == REDACTED


def test_nested_structures_are_scrubbed() -> None:
    out = _run(
        {
            "event": "x",
            "config": {"bootstrap.servers": "h:1", "sasl.password": "pw", "extra": [{"token": "t"}]},
            "lines": ("card " + VISA, 3),
        }
    )
    assert out["config"] == {
        "bootstrap.servers": "h:1",
        "sasl.password": REDACTED,
        "extra": [{"token": REDACTED}],
    }
    assert out["lines"] == ("card " + REDACTED, 3)


def test_card_numbers_in_messages_ints_and_bytes_are_masked() -> None:
    out = _run({"event": f"declined {VISA}", "pan_int": int(VISA), "body": f'{{"n":"{AMEX}"}}'.encode()})
    assert VISA not in out["event"]
    assert out["pan_int"] == REDACTED
    assert AMEX not in str(out["body"])


def test_secret_pairs_and_url_passwords_in_strings_are_masked() -> None:
    text = "retrying with sasl.password=hunter2 and token: abc123 to https://svc:pa55@registry:8081/x"
    masked = redact_text(text)
    for secret in ("hunter2", "abc123", "pa55"):
        assert secret not in masked
    assert "https://svc:" in masked
    assert "@registry:8081/x" in masked


def test_configured_pii_fields_are_masked_and_others_kept() -> None:
    redactor = Redactor(pii_fields={"email", "Phone-Number"})
    out = _run({"event": "x", "email": "a@b.c", "phone_number": "+4930", "sku": "SKU-1"}, redactor)
    assert out["email"] == REDACTED
    assert out["phone_number"] == REDACTED
    assert out["sku"] == "SKU-1"


def test_pii_field_names_come_from_schema_tags() -> None:
    schema = {
        "type": "record",
        "name": "Customer",
        "fields": [
            {"name": "email", "type": ["null", "string"], "tags": ["PII"]},
            {"name": "customer_id", "type": "string"},
            {
                "name": "address",
                "type": {
                    "type": "record",
                    "name": "Address",
                    "fields": [{"name": "line1", "type": "string", "tags": ["PII"]}],
                },
            },
        ],
    }
    assert pii_field_names([schema]) == {"email", "line1"}


def test_processor_in_a_real_structlog_chain_scrubs_exceptions() -> None:
    buffer = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(buffer),
        processors=[structlog.processors.format_exc_info, Redactor(), structlog.processors.JSONRenderer()],
    )
    try:
        raise ValueError(f"bad card {VISA} with password=topsecret")
    except ValueError:
        logger.exception("failed", user_password="pw", sku="A")
    line = json.loads(buffer.getvalue())
    assert VISA not in buffer.getvalue()
    assert "topsecret" not in buffer.getvalue()
    assert line["user_password"] == REDACTED
    assert line["sku"] == "A"
    assert "ValueError" in line["exception"]
