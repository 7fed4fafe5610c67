"""Conversions shared by adapters: money with each source's rules, ids, dates, model building.

Every helper takes the source path of the value it converts, so that a failure deep inside pydantic
(a currency that is not ISO 4217, an amount past ``decimal(20, 4)``) still reaches the DLQ as
"this field of the payload, expected that, found this" rather than as a model validation trace.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from schemas.base import AvroRecord
from schemas.common.models import Money
from schemas.ids import EmptyIdPartError, canonical_id
from services.translator.errors import TranslationError
from services.translator.ingress import IngressRecord

__all__ = [
    "build",
    "canonical",
    "currency_code",
    "day_start",
    "guarded",
    "money",
    "money_minor",
    "quantize_money",
    "whole",
    "zone",
]

M = TypeVar("M", bound=AvroRecord)
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_FOUR_PLACES = Decimal("0.0001")
_MAX_MINOR = 10**18  # beyond decimal(20, 4) in every currency: rejected before pydantic sees it


def currency_code(value: str, path: str) -> str:
    """An ISO 4217 alphabetic code, upper-cased (Stripe sends ``usd``)."""
    if not _CURRENCY.match(value.strip()):
        raise TranslationError(path, "ISO 4217 currency code", value)
    return value.strip().upper()


def money(amount: Decimal, currency: str, path: str) -> Money:
    """``Money`` from a decimal already in major units; precision or scale overflow names ``path``."""
    try:
        return Money(amount=amount, currency=currency)
    except ValidationError as error:
        raise TranslationError(path, "amount within decimal(20, 4)", str(amount)) from error


def money_minor(value: int, currency: str, path: str) -> Money:
    """Stripe/Adyen integers in the currency's minor unit (ISO 4217 exponent: JPY 0, KWD 3)."""
    if abs(value) >= _MAX_MINOR:
        raise TranslationError(path, "minor units below 10^18", value)
    try:
        return Money.from_minor_units(value, currency)
    except ValidationError as error:
        raise TranslationError(path, "amount in minor units", value) from error


def quantize_money(amount: Decimal) -> Decimal:
    """A derived amount (unit price = amount / quantity) to the model's 4 places, half-even."""
    try:
        return amount.quantize(_FOUR_PLACES, rounding=ROUND_HALF_EVEN)
    except InvalidOperation as error:
        raise TranslationError("derived amount", "decimal(20, 4)", str(amount)) from error


def whole(value: Decimal, path: str) -> int:
    """A quantity the canonical model holds as an integer: fractional quantities are rejected."""
    if value != value.to_integral_value():
        raise TranslationError(path, "whole quantity", str(value), "canonical quantities are integers")
    if abs(value) >= 2**63:
        raise TranslationError(path, "quantity within a 64-bit integer", str(value))
    return int(value)


def canonical(record: IngressRecord, entity: str, native_id: str, path: str = "$") -> UUID:
    """``canonical_id`` of the record's system and account; an empty id is a precise rejection."""
    try:
        return canonical_id(record.system, record.account, entity, native_id)
    except ValueError as error:
        raise TranslationError(path, f"non-empty {entity} id", native_id) from error


def zone(name: str) -> tzinfo:
    """A configured IANA zone (``Europe/Berlin``) for sources that send local times without offset."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


def day_start(day: date, tz: tzinfo, at: time | None = None) -> datetime:
    """A date-only value (``CCYYMMDD``, ``YYYY-MM-DD``) as the instant it starts in the source's zone."""
    return datetime.combine(day, at or time(), tzinfo=tz).astimezone(UTC)


def build(model: type[M], path: str, **fields: Any) -> M:
    """Construct a canonical model; a validation failure names ``path`` and the canonical field."""
    try:
        return model(**fields)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise TranslationError(
            path, f"{model.__name__}.{where}: {first['msg']}", first.get("input"), "canonical model"
        ) from error


def guarded(
    translate: Callable[[IngressRecord], Sequence[AvroRecord]],
) -> Callable[[IngressRecord], Sequence[AvroRecord]]:
    """Last line of defence for an adapter: a model validation error becomes a TranslationError.

    Adapters convert at the source path wherever they can; this only catches what slipped through,
    so that nothing but a TranslationError ever leaves a translator.
    """

    @functools.wraps(translate)
    def wrapper(record: IngressRecord) -> Sequence[AvroRecord]:
        try:
            return translate(record)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise TranslationError(
                f"canonical {error.title}.{where}", first["msg"], first.get("input"), "canonical model"
            ) from error
        except (InvalidOperation, OverflowError) as error:
            raise TranslationError("$", "amounts within decimal(20, 4)", type(error).__name__) from error
        except EmptyIdPartError as error:
            raise TranslationError("id", "a non-empty native id", str(error)) from error

    return wrapper
