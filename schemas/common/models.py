"""Shared records, namespace ``com.esb.canonical.common``."""

from __future__ import annotations

from decimal import Decimal
from typing import Self
from uuid import UUID

from pydantic import Field

from schemas.base import Amount, AvroRecord, CurrencyCode, Rate, UtcDatetime, pii

__all__ = ["Address", "DiscountAllocation", "DocumentRef", "EventMetadata", "Money", "SourceRef", "TaxLine"]

# ISO 4217 minor-unit exponents that differ from 2 (the default).
_MINOR_UNIT_EXPONENT: dict[str, int] = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
        ),
        0,
    ),
    **dict.fromkeys(("XOF", "XPF"), 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    "CLF": 4,
    "UYW": 4,
}


class Money(AvroRecord):
    """An amount in one ISO 4217 currency. Never a float."""

    amount: Amount
    currency: CurrencyCode

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> Self:
        """``Money.of("12.30", "usd")``: parses a decimal string exactly and upper-cases the currency."""
        return cls(amount=Decimal(amount), currency=currency.upper())

    @classmethod
    def from_minor_units(cls, value: int, currency: str) -> Self:
        """Stripe/Adyen style integers: ``from_minor_units(2000, "usd")`` is 20.00 USD, JPY is not divided."""
        code = currency.upper()
        return cls(amount=Decimal(value).scaleb(-_MINOR_UNIT_EXPONENT.get(code, 2)), currency=code)


class SourceRef(AvroRecord):
    """Where a record came from: the source system, its account/shop and the entity's native id."""

    system: str = Field(description="source system: shopify, woocommerce, amazon, stripe, adyen, netsuite...")
    account: str = Field(description="shop domain, seller id, merchant account: the tenant inside the system")
    entity: str = Field(description="native entity type, lower case: order, refund, charge, customer...")
    native_id: str = Field(description="the entity's id in the source, as a string (64-bit ids lose nothing)")
    api_version: str | None = Field(default=None, description="API/payload version the source used")


class EventMetadata(AvroRecord):
    """Carried by every canonical event."""

    event_id: UUID = Field(description="unique per event; consumers deduplicate on it")
    event_type: str = Field(description="e.g. order.placed, payment.captured")
    occurred_at: UtcDatetime = Field(description="when it happened in the source")
    ingested_at: UtcDatetime = Field(description="when the bus received it")
    source: SourceRef
    provider_event_id: str | None = Field(default=None, description="webhook/notification id of the source")
    correlation_id: str | None = Field(default=None, description="shared by every event of one business flow")
    causation_id: str | None = Field(default=None, description="event_id of the event that caused this one")


class Address(AvroRecord):
    """A postal address; every part is optional because sources (and restricted data) vary."""

    name: str | None = pii()
    company: str | None = pii()
    street_lines: list[str] = Field(default_factory=list, json_schema_extra={"pii": True})
    city: str | None = pii()
    region: str | None = Field(default=None, description="state/province name")
    region_code: str | None = Field(default=None, description="ISO 3166-2 subdivision code when known")
    postal_code: str | None = pii()
    country_code: str | None = Field(default=None, description="ISO 3166-1 alpha-2")
    phone: str | None = pii("E.164 when the source gives enough to normalize it")


class TaxLine(AvroRecord):
    """One tax applied to a line, a shipping line or an order."""

    title: str
    rate: Rate | None = None
    amount: Money
    presentment_amount: Money | None = None
    jurisdiction: str | None = None


class DiscountAllocation(AvroRecord):
    """The part of a discount that falls on one line or shipping line."""

    amount: Money
    presentment_amount: Money | None = None
    code: str | None = None
    title: str | None = None


class DocumentRef(AvroRecord):
    """A pointer to another document: ``type`` (order, refund, transfer, payout...) and its id."""

    type: str
    id: str
    system: str | None = Field(default=None, description="null when the id is a canonical id")
