"""Currency rounding, exchange rates from the rates store, posting dates and closed periods."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.ledger_poster.chart import Entity
from services.ledger_poster.money import RateNotFoundError, StoredRates, convert, quantize, rate_key
from services.ledger_poster.periods import posting_for

pytestmark = pytest.mark.unit


def test_quantize_uses_each_currencys_minor_unit_half_up() -> None:
    assert quantize(Decimal("10.005"), "USD") == Decimal("10.01")
    assert quantize(Decimal("10.5"), "JPY") == Decimal("11")
    assert quantize(Decimal("1.0005"), "KWD") == Decimal("1.001")
    assert convert(Decimal("100.00"), Decimal("0.9313588526"), "EUR") == Decimal("93.14")


class _Store(dict[str, object]):
    pass


def _rates(max_age: int = 7) -> StoredRates:
    store = _Store(
        {
            rate_key("EUR", "USD"): {"2024-03-01": "1.0800", "2024-03-04": "1.0900"},
            rate_key("EUR", "GBP"): {"2024-03-01": "0.8500"},
        }
    )
    return StoredRates(store, max_age)


def test_rates_direct_inverse_cross_and_latest_before_the_date() -> None:
    rates = _rates()
    assert rates.rate("EUR", "USD", date(2024, 3, 3)) == Decimal("1.0800")  # weekend: Friday's fixing
    assert rates.rate("EUR", "USD", date(2024, 3, 4)) == Decimal("1.0900")
    assert rates.rate("USD", "EUR", date(2024, 3, 1)) == Decimal("0.9259259259")
    assert rates.rate("GBP", "USD", date(2024, 3, 1)) == Decimal("1.2705882353")  # 1.08 / 0.85 via EUR
    assert rates.rate("USD", "USD", date(2000, 1, 1)) == Decimal(1)


def test_missing_or_stale_rates_are_refused() -> None:
    with pytest.raises(RateNotFoundError, match="EUR->JPY"):
        _rates().rate("EUR", "JPY", date(2024, 3, 1))
    with pytest.raises(RateNotFoundError):
        _rates(max_age=7).rate("EUR", "GBP", date(2024, 3, 20))
    with pytest.raises(RateNotFoundError):
        _rates().rate("EUR", "USD", date(2024, 2, 29))  # no rate yet on that day


def test_posting_date_is_the_books_day_in_the_entitys_time_zone() -> None:
    entity = Entity(functional_currency="USD", timezone="America/New_York")
    posting = posting_for(entity, datetime(2024, 2, 1, 3, 0, tzinfo=UTC))  # 22:00 on Jan 31 in New York
    assert (posting.posting_date, posting.period, posting.original_date) == (
        date(2024, 1, 31),
        "2024-01",
        None,
    )


def test_closed_periods_roll_forward_to_the_next_open_one() -> None:
    entity = Entity(functional_currency="EUR", closed_through="2024-01", closed_periods=("2024-02",))
    posting = posting_for(entity, datetime(2024, 1, 15, 12, 0, tzinfo=UTC))
    assert posting.posting_date == date(2024, 3, 1)
    assert posting.period == "2024-03"
    assert posting.original_date == date(2024, 1, 15)
    dec = Entity(functional_currency="EUR", closed_through="2023-12")
    assert posting_for(dec, datetime(2023, 12, 31, 12, 0, tzinfo=UTC)).posting_date == date(2024, 1, 1)
