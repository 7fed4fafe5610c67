"""Currency arithmetic: minor units, explicit rounding, conversion to the functional currency.

Every quantize names its rounding mode. Conversion multiplies the transaction amount by the rate
(``1 transaction unit = rate functional units``) and rounds half-up to the functional currency's minor
unit, line by line; what that rounding leaves unbalanced is booked to the rounding account by the
entry builder, never spread silently over other lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any, Protocol

from schemas.common.models import Money

__all__ = [
    "RATE_QUANTUM",
    "ROUNDING",
    "RateBook",
    "RateNotFoundError",
    "StoredRates",
    "convert",
    "minor_quantum",
    "quantize",
    "rate_key",
]

ROUNDING = ROUND_HALF_UP
RATE_QUANTUM = Decimal("1e-10")  # schemas.base.Rate: 10 decimal places
_PIVOT = "EUR"  # ECB publishes every rate against the euro


class RateNotFoundError(LookupError):
    """No usable rate for a currency pair on a date."""


@cache
def minor_quantum(currency: str) -> Decimal:
    """``Decimal("0.01")`` for USD, ``Decimal("1")`` for JPY, ``Decimal("0.001")`` for KWD."""
    return Money.from_minor_units(1, currency).amount.normalize()


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half-up."""
    return amount.quantize(minor_quantum(currency), rounding=ROUNDING)


def convert(amount: Decimal, rate: Decimal, functional_currency: str) -> Decimal:
    return quantize(amount * rate, functional_currency)


def rate_key(base: str, quote: str) -> str:
    return f"fx|{base}|{quote}"


class RateBook(Protocol):
    def rate(self, base: str, quote: str, on: date) -> Decimal:
        """``1 base = rate quote`` valid on ``on``; raises :class:`RateNotFoundError`."""
        ...


class StoredRates:
    """Daily rates kept in the state store as ``fx|BASE|QUOTE -> {"YYYY-MM-DD": "rate"}``.

    Uses the latest rate on or before the date, at most ``max_age_days`` old (weekends and holidays
    have no fixing). Pairs without a direct rate are crossed through the euro, as ECB rates are.
    """

    def __init__(self, store: Any, max_age_days: int) -> None:
        self._store = store
        self._max_age = timedelta(days=max_age_days)

    def rate(self, base: str, quote: str, on: date) -> Decimal:
        if base == quote:
            return Decimal(1)
        direct = self._lookup(base, quote, on)
        if direct is not None:
            return direct
        if _PIVOT not in (base, quote):
            to_base = self._lookup(_PIVOT, base, on)
            to_quote = self._lookup(_PIVOT, quote, on)
            if to_base is not None and to_quote is not None:
                return (to_quote / to_base).quantize(RATE_QUANTUM, rounding=ROUNDING)
        raise RateNotFoundError(f"no {base}->{quote} rate on or up to {self._max_age.days} days before {on}")

    def _lookup(self, base: str, quote: str, on: date) -> Decimal | None:
        found = self._latest(base, quote, on)
        if found is not None:
            return found
        inverse = self._latest(quote, base, on)
        if inverse is not None and inverse != 0:
            return (Decimal(1) / inverse).quantize(RATE_QUANTUM, rounding=ROUNDING)
        return None

    def _latest(self, base: str, quote: str, on: date) -> Decimal | None:
        table: Mapping[str, str] | None = self._store.get(rate_key(base, quote))
        if not table:
            return None
        oldest = (on - self._max_age).isoformat()
        wanted = on.isoformat()
        candidates = [day for day in table if oldest <= day <= wanted]
        if not candidates:
            return None
        return Decimal(table[max(candidates)])
