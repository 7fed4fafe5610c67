"""Canonical ids, money and instants: the value rules every translator relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest
from pydantic import ValidationError

from schemas.common import Money
from schemas.common.models import SourceRef
from schemas.ids import canonical_id, stock_key
from schemas.orders import OrderCancellation

pytestmark = pytest.mark.unit


def test_canonical_id_is_deterministic_and_case_insensitive_in_system_and_entity() -> None:
    first = canonical_id("shopify", "acme.myshopify.com", "order", 820982911946154508)
    assert first == canonical_id("Shopify", "acme.myshopify.com", "ORDER", "820982911946154508")
    assert first.version == 5


def test_canonical_id_separates_parts_unambiguously() -> None:
    assert canonical_id("shopify", "a/b", "order", "c") != canonical_id("shopify", "a", "order", "b/c")
    assert canonical_id("shopify", "a", "order", "1") != canonical_id("shopify", "a", "refund", "1")
    assert canonical_id("shopify", "Acme", "order", "1") != canonical_id("shopify", "acme", "order", "1")


def test_canonical_id_rejects_empty_parts() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        canonical_id("shopify", " ", "order", "1")


def test_stock_key_is_per_sku_and_location() -> None:
    assert stock_key("SKU-1", "WH1") == stock_key("SKU-1", "WH1")
    assert stock_key("SKU-1", "WH1") != stock_key("SKU-1", "WH2")
    assert isinstance(stock_key("a", "b"), UUID)


def test_money_keeps_exact_decimals_at_scale_four() -> None:
    money = Money.of("598.94", "usd")
    assert money.amount == Decimal("598.94")
    assert money.amount.as_tuple().exponent == -4
    assert money.currency == "USD"


@pytest.mark.parametrize(
    ("minor", "currency", "expected"),
    [(2000, "usd", "20.00"), (500, "JPY", "500"), (1234, "kwd", "1.234"), (-150, "EUR", "-1.50")],
)
def test_money_from_minor_units(minor: int, currency: str, expected: str) -> None:
    assert Money.from_minor_units(minor, currency).amount == Decimal(expected)


@pytest.mark.parametrize("amount", ["0.00001", "NaN", "Infinity", "12345678901234567.0"])
def test_money_rejects_what_the_schema_cannot_hold(amount: str) -> None:
    with pytest.raises(ValidationError):
        Money(amount=Decimal(amount), currency="USD")


def test_money_rejects_floats_and_bad_currency() -> None:
    with pytest.raises(ValidationError):
        Money(amount=Decimal("1"), currency="usd")
    with pytest.raises(ValidationError):
        Money.model_validate({"amount": 0.1, "currency": "USD"}, strict=True)


def test_instants_are_utc_milliseconds_and_must_carry_an_offset() -> None:
    local = datetime(2008, 1, 10, 11, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5)))
    cancelled = OrderCancellation(cancelled_at=local).cancelled_at
    assert cancelled == datetime(2008, 1, 10, 16, 0, 0, 123000, tzinfo=UTC)
    assert cancelled is not None
    assert cancelled.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError):
        OrderCancellation(cancelled_at=datetime(2008, 1, 10))


def test_models_are_frozen_and_reject_unknown_fields() -> None:
    ref = SourceRef(system="shopify", account="acme", entity="order", native_id="1")
    with pytest.raises(ValidationError):
        ref.native_id = "2"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        SourceRef.model_validate({**ref.to_avro(), "shop": "x"})
