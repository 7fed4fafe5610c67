"""The projector reads its canonical inputs without a second pydantic validation: what it decodes
must be exactly what the runtime's Avro codec gives (equal models, same fields set and order, enum
members, the same errors), whichever path a record takes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings

from bus.config import SchemaRegistrySettings
from bus.serde import AvroCodec, BoundCodec, SerdeError, registry_client
from schemas.common.models import DocumentRef, EventMetadata, SourceRef
from schemas.inventory.models import MovementKind, ReservationEvent, ReservationKind, StockMovementEvent
from schemas.loader import schema_text
from services.inventory_projector.inputs import (
    build_movement,
    build_reservation,
    movement_codec,
    reservation_codec,
    trusted_codec,
)
from tests.canonical_strategies import model_strategy

pytestmark = pytest.mark.unit


def _pair(fast: AvroCodec) -> tuple[BoundCodec, BoundCodec, Any]:
    """The projector's codec and the runtime's, bound to one registry."""
    registry = registry_client(SchemaRegistrySettings(url=f"mock://{uuid.uuid4().hex}"))
    runtime = AvroCodec(fast.model, fast.schema).bind(registry, auto_register=True)
    return fast.bind(registry, auto_register=True), runtime, registry


_MOVEMENTS = _pair(movement_codec())
_RESERVATIONS = _pair(reservation_codec())


def _same_model(fast: Any, reference: Any) -> None:
    assert type(fast) is type(reference)
    assert fast == reference
    assert fast.model_fields_set == reference.model_fields_set
    assert list(fast.__dict__) == list(reference.__dict__)  # field order, as validation sets it
    for name, value in reference.__dict__.items():
        assert type(fast.__dict__[name]) is type(value), name
        if hasattr(value, "model_fields_set"):
            _same_model(fast.__dict__[name], value)


def _same_decode(codecs: tuple[BoundCodec, BoundCodec, Any], data: bytes) -> Any:
    fast, runtime, _ = codecs
    decoded = fast.decode(data, "t")
    _same_model(decoded, runtime.decode(data, "t"))
    return decoded


def _movement(**changes: Any) -> StockMovementEvent:
    values: dict[str, Any] = {
        "metadata": EventMetadata(
            event_id=uuid.uuid4(),
            event_type="stock.moved",
            occurred_at=datetime(2026, 1, 1, 12, 0, 0, 123_000, tzinfo=UTC),
            ingested_at=datetime.now(UTC),
            source=SourceRef(system="wms", account="dc", entity="movement", native_id="7"),
            correlation_id="c-1",
        ),
        "movement_id": uuid.uuid4(),
        "kind": MovementKind.SHIPMENT,
        "sku": "SKU-1",
        "location": "WH1",
        "quantity": -2,
    }
    return StockMovementEvent(**(values | changes))


@settings(max_examples=300, deadline=None)
@given(movement=model_strategy(StockMovementEvent))
def test_movements_decode_as_the_runtime_decodes_them(movement: StockMovementEvent) -> None:
    data = _MOVEMENTS[1].encode(movement, "t")
    _same_decode(_MOVEMENTS, data)
    built = build_movement(_MOVEMENTS[0]._decoder(data, 5))  # type: ignore[attr-defined]
    assert (built is None) == (movement.reference is not None or movement.unit_cost is not None)


@settings(max_examples=300, deadline=None)
@given(reservation=model_strategy(ReservationEvent))
def test_reservations_decode_as_the_runtime_decodes_them(reservation: ReservationEvent) -> None:
    data = _RESERVATIONS[1].encode(reservation, "t")
    _same_decode(_RESERVATIONS, data)
    assert build_reservation(_RESERVATIONS[0]._decoder(data, 5)) is not None  # type: ignore[attr-defined]


def test_the_common_movement_is_built_without_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A movement without nested reference or cost is built by the fast path, and equals it."""
    fast, runtime, _ = _pair(movement_codec())
    data = runtime.encode(_movement(), "t")
    reference = runtime.decode(data, "t")

    def no_validation(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("validated")

    monkeypatch.setattr(StockMovementEvent, "model_validate", no_validation)
    built = fast.decode(data, "t")
    _same_model(built, reference)
    assert built.kind is MovementKind.SHIPMENT
    schema_id = int.from_bytes(data[1:5], "big")
    assert fast._readers[schema_id][1] is None  # type: ignore[attr-defined]  # our own schema


def test_the_common_reservation_is_built_without_validation() -> None:
    fast, runtime, _ = _RESERVATIONS
    reservation = ReservationEvent(
        metadata=_movement().metadata,
        reservation_id=uuid.uuid4(),
        kind=ReservationKind.RESERVE,
        sku="SKU-1",
        location="WH1",
        quantity=3,
        order_id=uuid.uuid4(),
        expires_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    data = runtime.encode(reservation, "t")
    built = build_reservation(fast._decoder(data, 5))  # type: ignore[attr-defined]
    assert built is not None
    _same_model(built, runtime.decode(data, "t"))


def test_nested_records_are_validated() -> None:
    """A reference (or a unit cost) is a nested record with its own rules: the builder declines."""
    fast, runtime, _ = _MOVEMENTS
    movement = _movement(reference=DocumentRef(type="transfer", id="T-1"))
    data = runtime.encode(movement, "t")
    assert build_movement(fast._decoder(data, 5)) is None  # type: ignore[attr-defined]
    assert _same_decode(_MOVEMENTS, data) == movement


def test_malformed_records_fail_as_in_the_runtime() -> None:
    fast, runtime, _ = _MOVEMENTS
    data = runtime.encode(_movement(), "t")
    for bad in (data[:-3], data[:5] + b"\xff" * 8, b"\x00\x00", b"\x01" + data[1:], b""):
        with pytest.raises(SerdeError) as expected:
            runtime.decode(bad, "t")
        with pytest.raises(SerdeError) as got:
            fast.decode(bad, "t")
        assert str(got.value) == str(expected.value)


def test_another_writer_schema_takes_the_runtime_path() -> None:
    """A record written with another (compatible) schema is resolved by the runtime's codec."""
    fast, runtime, registry = _pair(movement_codec())
    writer = json.loads(schema_text(StockMovementEvent.avro_name()))
    writer["fields"] = [f for f in writer["fields"] if f["name"] != "source_sequence"]
    writer_text = json.dumps(writer)
    older = AvroCodec(StockMovementEvent, writer_text).bind(registry, auto_register=True)
    data = older.encode(_movement(), "older")
    schema_id = int.from_bytes(data[1:5], "big")
    assert registry.get_schema(schema_id).schema_str is not None
    _same_decode((fast, runtime, registry), data)
    assert fast._readers[schema_id][1] is not None  # type: ignore[attr-defined]  # resolved, validated


def test_a_schema_whose_fields_differ_from_the_model_has_no_fast_path() -> None:
    schema = json.loads(schema_text(StockMovementEvent.avro_name()))
    schema["fields"] = list(reversed(schema["fields"]))
    assert trusted_codec(StockMovementEvent, json.dumps(schema), build_movement).build is None
    assert movement_codec().build is build_movement
    assert reservation_codec().build is build_reservation
