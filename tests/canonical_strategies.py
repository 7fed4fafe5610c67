"""Hypothesis strategies for every canonical model, derived from its field annotations.

``model_strategy(OrderEvent)`` builds valid instances with every optional field sometimes set, so
property tests (round trips, translators' invariants) see the whole shape of the model.
"""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any
from uuid import UUID

from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel

from schemas.base import AvroDecimal
from tests.model_avro import unwrap_optional

__all__ = ["model_strategy"]

_OFFSETS = [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
_INSTANTS = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(_OFFSETS),
)
_TEXT = st.text(max_size=12)


def _strategy(annotation: Any, metadata: list[Any]) -> st.SearchStrategy[Any]:
    inner, optional = unwrap_optional(annotation)
    if optional:
        return st.none() | _strategy(inner, metadata)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        return _strategy(base, [*metadata, *extra])
    if origin is list:
        return st.lists(_strategy(typing.get_args(annotation)[0], []), max_size=3)
    if origin is dict:
        return st.dictionaries(_TEXT, _strategy(typing.get_args(annotation)[1], []), max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_strategy(annotation)
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return st.sampled_from(list(annotation))
    if annotation is str:
        patterns = [getattr(m, "pattern", None) for m in metadata]
        pattern = next((p for p in patterns if p), None)
        return st.from_regex(pattern, fullmatch=True) if pattern else _TEXT
    if annotation is Decimal:
        marker = next(m for m in metadata if isinstance(m, AvroDecimal))
        bound = Decimal(10) ** (marker.precision - marker.scale) - 1
        return st.decimals(-bound, bound, places=marker.scale, allow_nan=False, allow_infinity=False)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        bool: st.booleans(),
        int: st.integers(-(2**63), 2**63 - 1),
        UUID: st.uuids(),
        datetime: _INSTANTS,
        AwareDatetime: _INSTANTS,
        date: st.dates(min_value=date(1900, 1, 1)),
    }
    if annotation in simple:
        return simple[annotation]
    raise TypeError(f"no strategy for {annotation!r}")


@cache
def model_strategy(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    fields = {
        name: _strategy(info.annotation, list(info.metadata)) for name, info in model.model_fields.items()
    }
    return st.builds(model, **fields)
