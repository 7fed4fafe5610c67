"""The back-fill's key for each ``.v1`` record: the SKU, or the record's own key when the projector
dead-lettered it on ``.v1``; a registry that cannot be asked stops the copy instead."""

from __future__ import annotations

from typing import Any

import pytest

from bus.errors import FatalError, SerdeError
from schemas.ids import stock_key
from schemas.inventory.models import MovementKind
from services.inventory_projector.backfill import _sku_key
from tests.inventory_support import movement

_KEY = str(stock_key("SKU-9", "WH2")).encode()


class _Codec:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome

    def encode(self, value: Any, topic: str) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes, topic: str) -> Any:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def test_a_record_keyed_by_its_stock_key_is_keyed_by_its_sku() -> None:
    value = movement(MovementKind.RECEIPT, 1, sku="SKU-9", location="WH2")
    assert _sku_key(_Codec(value), "t", _KEY, b"avro") == b"SKU-9"


def test_records_the_projector_dead_lettered_keep_their_key() -> None:
    value = movement(MovementKind.RECEIPT, 1, sku="SKU-9", location="WH2")
    other = str(stock_key("SKU-9", "WH1")).encode()
    assert _sku_key(_Codec(value), "t", other, b"avro") is None  # another position's key
    assert _sku_key(_Codec(value), "t", None, b"avro") is None
    assert _sku_key(_Codec(SerdeError("not Avro")), "t", _KEY, b"junk") is None


def test_a_registry_that_cannot_be_asked_stops_the_copy() -> None:
    with pytest.raises(FatalError):
        _sku_key(_Codec(FatalError("schema registry unreachable")), "t", _KEY, b"avro")
