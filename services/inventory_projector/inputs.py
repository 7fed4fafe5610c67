"""The canonical inputs' codec: the runtime's Avro codec, with the model built without a second
validation when the record's own decoding already made every value what validation would.

The runtime's ``AvroCodec`` reads a record with the decoder compiled for its schema and then runs
pydantic validation over the dicts it read (≈ 5 of a movement's 11 µs decode; built here: ≈ 2). For a
record written with the reader's own schema that decoder gives strings, longs, ``UUID`` values, UTC
instants at millisecond precision, which validation returns as they are; it leaves only enum
symbols (to members) and nested records (to models). :class:`TrustedAvroCodec` does those two and
builds the models with ``schemas.base.trusted``.

Anything else takes the runtime's codec unchanged, so values, errors and dead letters are the
same: another writer schema, a record the builder declines (a nested reference or unit cost, a
value not of the expected type, an instant not UTC at millisecond precision), any failure of the
fast path. ``tests/unit/test_inventory_inputs.py`` holds both paths to equal models.
"""

from __future__ import annotations

import contextlib
import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from confluent_kafka.schema_registry import SchemaRegistryClient
from fastavro import parse_schema
from pydantic import BaseModel

from bus.avro_fast import Decoder, UnsupportedSchemaError, compile_decoder
from bus.serde import AvroCodec, BoundCodec
from schemas.base import avro_fullname, trusted
from schemas.common.models import EventMetadata, SourceRef
from schemas.inventory.models import MovementKind, ReservationEvent, ReservationKind, StockMovementEvent
from schemas.loader import schema_text

__all__ = ["TrustedAvroCodec", "build_movement", "build_reservation", "movement_codec", "reservation_codec"]

_WIRE_HEADER = struct.Struct(">bI")  # the Confluent wire format: magic byte 0, schema id
Builder = Callable[[dict[str, Any]], BaseModel | None]
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
# the models' order (checked when the codec is bound; the fast path is off otherwise).
_BUILT: dict[Builder, tuple[type[BaseModel], ...]] = {
    build_movement: (StockMovementEvent, EventMetadata, SourceRef),
    build_reservation: (ReservationEvent, EventMetadata, SourceRef),
}


@dataclass(frozen=True, slots=True)
class TrustedAvroCodec:
    """``AvroCodec(model, schema)``, decoding through ``build`` first (one of this module's)."""

    model: type[BaseModel]
    schema: str
    build: Builder

    def bind(self, registry: SchemaRegistryClient | None, *, auto_register: bool) -> BoundCodec:
        runtime = AvroCodec(self.model, self.schema).bind(registry, auto_register=auto_register)
        if registry is None:
            return runtime
        return _BoundTrusted(runtime, registry, self.schema, self.build)


def movement_codec() -> TrustedAvroCodec:
    return TrustedAvroCodec(StockMovementEvent, schema_text(StockMovementEvent.avro_name()), build_movement)


def reservation_codec() -> TrustedAvroCodec:
    return TrustedAvroCodec(ReservationEvent, schema_text(ReservationEvent.avro_name()), build_reservation)


def _fields_in_order(parsed: Any, models: tuple[type[BaseModel], ...]) -> bool:
    named = {**parsed.get("__named_schemas", {}), parsed["name"]: parsed}
    for model in models:
        record = named.get(avro_fullname(model))
        if record is None or [f["name"] for f in record["fields"]] != list(model.model_fields):
            return False
    return True


class _BoundTrusted:
    __slots__ = ("_build", "_decoder", "_own", "_parsed", "_registry", "_runtime")

    def __init__(
        self, runtime: BoundCodec, registry: SchemaRegistryClient, schema: str, build: Builder
    ) -> None:
        self._runtime = runtime
        self._registry = registry
        self._build = build
        parsed: Any = parse_schema(json.loads(schema))
        self._parsed = parsed
        self._decoder: Decoder | None = None
        models = _BUILT.get(build)  # a builder of this module, checked against the schema
        if models is not None and _fields_in_order(parsed, models):
            with contextlib.suppress(UnsupportedSchemaError):  # not compiled: the runtime's path
                self._decoder = compile_decoder(parsed, parsed.get("__named_schemas", {}))
        self._own: dict[int, bool] = {}  # writer schema id -> written with our own schema

    def encode(self, value: Any, topic: str) -> bytes:
        return self._runtime.encode(value, topic)

    def decode(self, data: bytes, topic: str) -> Any:
        if self._decoder is not None and len(data) > _WIRE_HEADER.size and data[0] == 0:
            schema_id = _WIRE_HEADER.unpack_from(data)[1]
            own = self._own.get(schema_id)
            if own is None:
                own = self._written_with_own(schema_id)
            if own:
                try:
                    value = self._build(self._decoder(data, _WIRE_HEADER.size))
                except Exception:  # the runtime's path below reads it or reports the error
                    value = None
                if value is not None:
                    return value
        return self._runtime.decode(data, topic)

    def _written_with_own(self, schema_id: int) -> bool:
        """Whether ``schema_id`` is the reader's own schema; False (not remembered) when the registry
        cannot tell now: the runtime's path then reports the registry's error."""
        try:
            writer = self._registry.get_schema(schema_id)
            own = (
                not writer.references
                and writer.schema_str is not None
                and writer.schema_type in (None, "AVRO")
                and parse_schema(json.loads(writer.schema_str)) == self._parsed
            )
        except Exception:
            return False
        self._own[schema_id] = own
        return own
