"""Avro serde on confluent-kafka's in-memory registry: round trip and failure classification."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from pydantic import BaseModel

from bus.config import SchemaRegistrySettings
from bus.errors import FatalError, SerdeError
from bus.serde import AvroCodec, BytesCodec, JsonCodec, registry_client
from services.examples.running_total.models import AMOUNT_SCHEMA, Amount

pytestmark = pytest.mark.unit

AMOUNT = Amount(
    event_id="e1", account="a", amount=3, occurred_at=datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
)


def _registry() -> SchemaRegistryClient:
    return registry_client(SchemaRegistrySettings(url=f"mock://{uuid.uuid4().hex}"))


def test_avro_round_trip_in_confluent_wire_format() -> None:
    codec = AvroCodec(Amount, AMOUNT_SCHEMA).bind(_registry(), auto_register=True)
    data = codec.encode(AMOUNT, "amounts")
    assert data[0] == 0  # magic byte, then a 4-byte schema id
    assert codec.decode(data, "amounts") == AMOUNT


def test_bad_bytes_and_wrong_types_are_the_records_fault() -> None:
    codec = AvroCodec(Amount, AMOUNT_SCHEMA).bind(_registry(), auto_register=True)
    with pytest.raises(SerdeError):
        codec.decode(b"not avro", "amounts")
    with pytest.raises(SerdeError, match="unknown writer schema"):
        codec.decode(b"\x00\x00\x00\x03\xe7abc", "amounts")
    with pytest.raises(SerdeError, match="expected Amount"):
        codec.encode({"event_id": "e1"}, "amounts")


def test_an_unregistered_output_schema_crashes_instead_of_dead_lettering() -> None:
    codec = AvroCodec(Amount, AMOUNT_SCHEMA).bind(_registry(), auto_register=False)
    with pytest.raises(FatalError, match="schema registry"):
        codec.encode(AMOUNT, "amounts")


def test_json_and_bytes_codecs() -> None:
    json_codec = JsonCodec(Amount).bind(None, auto_register=False)
    assert json_codec.decode(json_codec.encode(AMOUNT, "t"), "t") == AMOUNT
    with pytest.raises(SerdeError):
        json_codec.decode(b"{", "t")
    raw = BytesCodec().bind(None, auto_register=False)
    assert raw.decode(raw.encode(b"\x01", "t"), "t") == b"\x01"
    with pytest.raises(SerdeError):
        raw.encode("text", "t")


class _Inner(BaseModel):
    a: int


class _Nested(BaseModel):
    inner: _Inner | None = None
    counts: dict[str, int] | None = None
    items: list[_Inner | None] = []


_NESTED_SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "Nested",
        "namespace": "test",
        "fields": [
            {
                "name": "inner",
                "type": [
                    "null",
                    {"type": "record", "name": "Inner", "fields": [{"name": "a", "type": "long"}]},
                ],
                "default": None,
            },
            {"name": "counts", "type": ["null", {"type": "map", "values": "long"}], "default": None},
            {"name": "items", "type": {"type": "array", "items": ["null", "Inner"]}, "default": []},
        ],
    }
)


@pytest.mark.parametrize(
    "value",
    [_Nested(), _Nested(inner=_Inner(a=1), counts={"k": -128}, items=[_Inner(a=3), None])],
)
def test_avro_bytes_are_confluent_kafkas_for_unions_of_records_maps_and_arrays(value: _Nested) -> None:
    registry = _registry()
    codec = AvroCodec(_Nested, _NESTED_SCHEMA).bind(registry, auto_register=True)
    context = SerializationContext("nested", MessageField.VALUE)
    theirs = AvroSerializer(registry, _NESTED_SCHEMA, lambda v, _ctx: v.model_dump())(value, context)

    assert codec.encode(value, "nested") == theirs
    assert codec.decode(theirs, "nested") == value
