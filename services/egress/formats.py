"""Number and date formats per vendor; Decimal in, text or Decimal out, never float.

Rounding is explicit: amounts are quantized to the currency's minor unit with ROUND_HALF_UP (the
commercial rounding ERPs apply); unit prices keep up to four places because ERPs store them so.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from schemas.common.models import Money

__all__ = [
    "amount",
    "amount_of",
    "minor_unit_exponent",
    "quantity_text",
    "sap_date",
    "sap_number",
    "sap_time",
    "unit_price",
    "x12_date",
    "x12_short_date",
    "x12_time",
]

# ISO 4217 minor units that differ from 2 (the common cases; others default to 2).
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX"), 0),
    **dict.fromkeys(("VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def minor_unit_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def amount(money: Money) -> Decimal:
    """A total in the currency's minor unit: ``12.3`` USD -> ``12.30``, ``1500`` JPY -> ``1500``."""
    return amount_of(money.amount, money.currency)


def amount_of(value: Decimal, currency: str) -> Decimal:
    step = Decimal(1).scaleb(-minor_unit_exponent(currency))
    return value.quantize(step, rounding=ROUND_HALF_UP)


def unit_price(money: Money) -> Decimal:
    """A unit price: at least the currency's places, up to four when the price has them."""
    places = max(minor_unit_exponent(money.currency), _places(money.amount.normalize()))
    return money.amount.quantize(Decimal(1).scaleb(-min(places, 4)), rounding=ROUND_HALF_UP)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(-exponent, 0)


def sap_number(value: Decimal, places: int) -> str:
    """SAP IDoc text: fixed scale, ``.`` as separator, trailing minus for negatives (``100.00-``)."""
    text = format(abs(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")
    return f"{text}-" if value < 0 else text


def quantity_text(quantity: int | Decimal) -> str:
    return format(Decimal(quantity), "f")


def _local(value: datetime, zone: tzinfo) -> datetime:
    return value.astimezone(zone)


def sap_date(value: date | datetime, zone: tzinfo) -> str:
    day = _local(value, zone) if isinstance(value, datetime) else value
    return day.strftime("%Y%m%d")


def sap_time(value: datetime, zone: tzinfo) -> str:
    return _local(value, zone).strftime("%H%M%S")


def x12_date(value: date | datetime, zone: tzinfo) -> str:
    """CCYYMMDD (GS04, G62, W05 dates)."""
    return sap_date(value, zone)


def x12_short_date(value: datetime, zone: tzinfo) -> str:
    """YYMMDD (ISA09)."""
    return _local(value, zone).strftime("%y%m%d")


def x12_time(value: datetime, zone: tzinfo) -> str:
    """HHMM (ISA10, GS05)."""
    return _local(value, zone).strftime("%H%M")
