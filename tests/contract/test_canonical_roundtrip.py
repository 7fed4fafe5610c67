"""Every canonical event survives fastavro and the Confluent registry serializer unchanged."""

from __future__ import annotations

import io
from typing import Any

import fastavro
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.base import AvroRecord
from schemas.events import EVENTS
from schemas.loader import parsed_schema, schema_text
from tests.canonical_strategies import model_strategy

pytestmark = pytest.mark.contract

_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("model", EVENTS, ids=lambda m: m.__name__)
def test_fastavro_round_trip(model: type[AvroRecord]) -> None:
    schema = parsed_schema(model.avro_name())

    @_SETTINGS
    @given(event=model_strategy(model))
    def round_trip(event: AvroRecord) -> None:
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, schema, event.to_avro(), strict=True)
        buffer.seek(0)
        assert model.from_avro(fastavro.schemaless_reader(buffer, schema, schema)) == event

    round_trip()


@pytest.mark.parametrize("model", EVENTS, ids=lambda m: m.__name__)
def test_registry_serializer_round_trip(model: type[AvroRecord]) -> None:
    client = SchemaRegistryClient.new_client({"url": f"mock://{model.__name__}"})
    serializer = AvroSerializer(
        client,
        schema_text(model.avro_name()),
        lambda event, _ctx: event.to_avro(),
        {"auto.register.schemas": True},
    )
    deserializer = AvroDeserializer(client, None, lambda data, _ctx: model.from_avro(data))
    context = SerializationContext(f"canonical.{model.__name__}.v1", MessageField.VALUE)

    @_SETTINGS
    @given(event=model_strategy(model))
    def round_trip(event: AvroRecord) -> None:
        payload = serializer(event, context)
        assert payload is not None
        assert payload[0] == 0  # Confluent wire format: magic byte, then the schema id
        assert deserializer(payload, context) == event

    round_trip()


@given(data=st.data())
@settings(max_examples=10, deadline=None)
def test_to_avro_holds_no_pydantic_objects(data: st.DataObject) -> None:
    """What AvroSerializer receives is plain data: dicts, lists and scalars only."""
    event = data.draw(st.sampled_from(EVENTS).flatmap(model_strategy))

    def walk(value: Any) -> None:
        assert not isinstance(value, AvroRecord)
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(event.to_avro())
