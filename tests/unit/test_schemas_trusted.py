"""``schemas.base.trusted``: a canonical record built without validation from what validation
would make of its values is the validated record, attribute for attribute, for every event model
(and every record nested in it); a dict of another size is validated instead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel, ValidationError

from schemas.base import AvroRecord, trusted, utc_millis
from schemas.common.models import Money
from schemas.events import EVENTS
from schemas.orders.models import OrderCancellation, OrderLine
from tests.canonical_strategies import model_strategy

pytestmark = pytest.mark.unit


def _rebuilt(validated: Any) -> Any:
    """Every record of ``validated`` rebuilt bottom-up through ``trusted`` from its values."""
    if isinstance(validated, BaseModel):
        fields = {name: _rebuilt(value) for name, value in validated.__dict__.items()}
        return trusted(type(validated), fields, validated.model_fields_set)
    if isinstance(validated, list):
        return [_rebuilt(item) for item in validated]
    return validated


def _assert_identical(built: Any, validated: Any) -> None:
    assert type(built) is type(validated)
    if isinstance(built, BaseModel):
        assert list(built.__dict__) == list(validated.__dict__)
        assert built.model_fields_set == validated.model_fields_set
        assert built.model_fields_set is not validated.model_fields_set  # its own set
        assert built.__pydantic_extra__ == validated.__pydantic_extra__
        assert built.__pydantic_private__ == validated.__pydantic_private__
        for name, value in built.__dict__.items():
            _assert_identical(value, validated.__dict__[name])
    elif isinstance(built, list):
        assert len(built) == len(validated)
        for one, other in zip(built, validated, strict=True):
            _assert_identical(one, other)
    else:
        assert repr(built) == repr(validated)


@pytest.mark.parametrize("model", EVENTS, ids=lambda m: m.__name__)
def test_a_trusted_record_is_the_validated_one(model: type[AvroRecord]) -> None:
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(event=model_strategy(model))
    def check(event: AvroRecord) -> None:
        built = _rebuilt(event)
        _assert_identical(built, event)
        assert built == event
        assert repr(built) == repr(event)
        assert built.model_dump_json() == event.model_dump_json()
        assert model.model_validate(built.model_dump()) == built
        with pytest.raises(ValidationError):  # still frozen
            built.metadata = event.metadata  # type: ignore[misc]

    check()


def test_a_dict_of_another_size_is_validated() -> None:
    money = Money(amount=Decimal("1.5"), currency="USD")
    partial = {"line_id": "1", "title": "t", "quantity": 2, "unit_price": money}
    line = trusted(OrderLine, partial, set(partial))
    assert line == OrderLine(line_id="1", title="t", quantity=2, unit_price=money)
    with pytest.raises(ValidationError):
        trusted(OrderLine, {**partial, "quantity": "two"}, set(partial))


def test_utc_millis_is_what_the_model_stores() -> None:
    instant = datetime(2026, 3, 1, 12, 0, 0, 987654, tzinfo=timezone(timedelta(hours=-5)))
    stored = OrderCancellation(cancelled_at=instant).cancelled_at
    assert utc_millis(instant) == stored
    assert repr(utc_millis(instant)) == repr(stored)
    assert stored is not None
    assert stored.tzinfo is UTC
