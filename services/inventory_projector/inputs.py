"""The canonical inputs' codecs: the runtime's Avro codec, with builders that make the models
without a second validation.

The runtime's ``AvroCodec`` reads a record with the decoder compiled for its schema and then runs
pydantic validation over the dicts it read (≈ 5 of a movement's 11 µs decode; built here: ≈ 2). For a
record written with the reader's own schema those dicts hold strings, longs, ``UUID`` values, UTC
instants at millisecond precision, which validation returns as they are; only enum symbols (to
members) and nested records (to models) are left. The builders here do those two and build the
models with ``schemas.base.trusted``; the codec calls them through its ``build`` hook.

A builder declines (None: the codec validates) a nested reference or unit cost (records with their
own rules), a value not of the expected type, an instant not UTC at millisecond precision; records
written with another schema are validated by the codec. So values, errors and dead letters are the
runtime's. ``tests/unit/test_inventory_inputs.py`` holds both paths to equal models.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from fastavro import parse_schema
from pydantic import BaseModel

from bus.serde import AvroCodec, Builder
from schemas.base import avro_fullname, trusted
from schemas.common.models import EventMetadata, SourceRef
from schemas.inventory.models import MovementKind, ReservationEvent, ReservationKind, StockMovementEvent
from schemas.loader import schema_text

__all__ = ["build_movement", "build_reservation", "movement_codec", "reservation_codec", "trusted_codec"]

E = TypeVar("E", StockMovementEvent, ReservationEvent)


def _instant(value: Any) -> bool:
    """What ``UtcDatetime`` validation returns equal to itself (the decoder's timestamp-millis)."""
    return type(value) is datetime and value.tzinfo is UTC and value.microsecond % 1000 == 0


def _members(enum: type[StrEnum]) -> Mapping[str, StrEnum]:
    return {member.value: member for member in enum}


def _metadata(data: dict[str, Any]) -> EventMetadata | None:
    """The decoded ``EventMetadata`` dict as the model (in place), or None when it needs validation."""
    source = data["source"]
    if not (
        type(data["event_id"]) is UUID and _instant(data["occurred_at"]) and _instant(data["ingested_at"])
    ):
        return None
    data["source"] = trusted(SourceRef, source, source.keys())
    return trusted(EventMetadata, data, data.keys())


_MOVEMENT_KINDS = _members(MovementKind)
_RESERVATION_KINDS = _members(ReservationKind)


def build_movement(data: dict[str, Any]) -> StockMovementEvent | None:
    """A ``StockMovementEvent`` from the dicts its own schema's decoder read, or None to validate."""
    kind = _MOVEMENT_KINDS.get(data["kind"])
    if kind is None or type(data["movement_id"]) is not UUID:
        return None
    if data["reference"] is not None or data["unit_cost"] is not None:
        return None  # nested records with their own rules (money): rare, validated
    return _event(StockMovementEvent, data, kind)


def build_reservation(data: dict[str, Any]) -> ReservationEvent | None:
    """A ``ReservationEvent`` from the dicts its own schema's decoder read, or None to validate."""
    kind = _RESERVATION_KINDS.get(data["kind"])
    if kind is None or type(data["reservation_id"]) is not UUID:
        return None
    order_id, expires_at = data["order_id"], data["expires_at"]
    if not (order_id is None or type(order_id) is UUID) or not (expires_at is None or _instant(expires_at)):
        return None
    return _event(ReservationEvent, data, kind)


def _event(model: type[E], data: dict[str, Any], kind: StrEnum) -> E | None:
    """The event with its metadata and kind built in place, or None when the metadata needs validation."""
    metadata = _metadata(data["metadata"])
    if metadata is None:
        return None
    data["metadata"] = metadata
    data["kind"] = kind
    return trusted(model, data, data.keys())


# The record types a builder fills in place: their decoded dicts must have the models' fields, in
# the models' order (checked when the codec is made; it validates every record otherwise).
_BUILT: dict[Builder, tuple[type[BaseModel], ...]] = {
    build_movement: (StockMovementEvent, EventMetadata, SourceRef),
    build_reservation: (ReservationEvent, EventMetadata, SourceRef),
}


def trusted_codec(model: type[BaseModel], schema: str, build: Builder) -> AvroCodec:
    """``AvroCodec(model, schema)`` building through ``build`` (one of this module's) when ``schema``
    lists the fields of the records it fills in their models' order."""
    models = _BUILT.get(build)
    if models is None or not _fields_in_order(parse_schema(json.loads(schema)), models):
        return AvroCodec(model, schema)
    return AvroCodec(model, schema, build)


def movement_codec() -> AvroCodec:
    return trusted_codec(StockMovementEvent, schema_text(StockMovementEvent.avro_name()), build_movement)


def reservation_codec() -> AvroCodec:
    return trusted_codec(ReservationEvent, schema_text(ReservationEvent.avro_name()), build_reservation)


def _fields_in_order(parsed: Any, models: tuple[type[BaseModel], ...]) -> bool:
    named = {**parsed.get("__named_schemas", {}), parsed["name"]: parsed}
    for model in models:
        record = named.get(avro_fullname(model))
        if record is None or [f["name"] for f in record["fields"]] != list(model.model_fields):
            return False
    return True
