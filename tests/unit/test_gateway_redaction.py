from __future__ import annotations

import json

import pytest

from services.gateway.redaction import luhn_valid, redact
from tests.gateway_support import CONFORMANCE, TEST_PANS

pytestmark = pytest.mark.unit

CORPUS = sorted(p for p in CONFORMANCE.glob("*/*") if p.suffix != ".md")


def test_corpus_is_present() -> None:
    assert len(CORPUS) > 40


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_payloads_without_card_data_stay_the_same_bytes(path: object) -> None:
    body = path.read_bytes()  # type: ignore[attr-defined]
    result = redact(body)
    assert result.count == 0
    assert result.body is body


@pytest.mark.parametrize("pan", TEST_PANS)
def test_test_cards_pass_luhn_and_are_masked_everywhere_in_json(pan: str) -> None:
    assert luhn_valid(pan.encode())
    spaced = " ".join(pan[i : i + 4] for i in range(0, len(pan), 4))
    body = json.dumps(
        {"note": f"card {spaced} thanks", "card": {"number": int(pan), "cvc": "123"}, "list": [pan]}
    ).encode()
    result = redact(body, "application/json")
    assert pan.encode() not in result.body.replace(b" ", b"")
    assert result.count == 4
    parsed = json.loads(result.body)  # still valid JSON
    assert parsed["card"]["number"].endswith(pan[-4:])
    assert parsed["card"]["cvc"] == "XXX"


def test_identifier_keys_and_non_luhn_numbers_are_left_alone() -> None:
    body = b'{"id": 4111111111111111, "order_id": "4111111111111111", "pspReference": "4111111111111111",'
    body += b' "total": 4111111111111112, "ts": "20231004180011"}'
    result = redact(body)
    assert result.count == 0
    assert result.body is body


def test_xml_form_and_text_bodies() -> None:
    xml = redact(b"<p><cardNumber>4111-1111-1111-1111</cardNumber><cvv2> 737 </cvv2></p>", "text/xml")
    assert xml.body == b"<p><cardNumber>XXXX-XXXX-XXXX-1111</cardNumber><cvv2> XXX </cvv2></p>"
    form = redact(
        b"card[number]=5555555555554444&card[cvc]=123&amount=10", "application/x-www-form-urlencoded"
    )
    assert form.body == b"card[number]=XXXXXXXXXXXX4444&card[cvc]=XXX&amount=10"
    assert redact(b"CVV: 1234 PAN 378282246310005").body == b"CVV: XXX PAN XXXXXXXXXXX0005"


def test_json_cvv_under_any_spelling_and_type() -> None:
    body = b'{"securityCode": 123, "card_verification_value": "4567", "CVC2": "999"}'
    result = redact(body)
    assert json.loads(result.body) == {"securityCode": "XXX", "card_verification_value": "XXX", "CVC2": "XXX"}


def test_json_cvv_key_spellings_the_prefilter_must_not_miss() -> None:
    # No PAN-shaped digits in these bodies: only the CVV-key prefilter can send them to the scan.
    body = '{"CARD_VERİFİCATİON_CODE": 123, "c.v.v": "4567", "Card-Security Code": 999}'.encode()
    result = redact(body)
    assert result.count == 3
    assert set(json.loads(result.body).values()) == {"XXX"}


def test_json_without_card_data_or_cvv_keys_is_returned_as_is() -> None:
    body = b'{"note": "security deposit, code 12", "phone": "555 123 4567", "total": 2345678901}'
    result = redact(body)
    assert result.count == 0
    assert result.body is body
