"""The Avro codec against the real (Apicurio, Confluent API) registry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import HealthCheck, given, settings

from bus.config import SchemaRegistrySettings
from bus.errors import FatalError
from bus.serde import AvroCodec, registry_client
from schemas.base import AvroRecord
from schemas.inventory import StockMovementEvent
from schemas.ledger import JournalEntryEvent
from schemas.loader import schema_text
from schemas.orders import OrderEvent
from services.examples.running_total.models import AMOUNT_SCHEMA, TOTAL_SCHEMA, Amount, Total
from tests.canonical_samples import sample_order_event
from tests.canonical_strategies import model_strategy
from tests.infra import StackEndpoints

pytestmark = pytest.mark.integration


def test_production_mode_finds_a_released_schema_and_refuses_an_unknown_one(
    stack: StackEndpoints, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("serde")
    registry = registry_client(SchemaRegistrySettings(url=stack.schema_registry_url))
    amount = Amount(
        event_id="e1", account="a", amount=1, occurred_at=datetime(2026, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
    )
    released = AvroCodec(Amount, AMOUNT_SCHEMA).bind(registry, auto_register=True).encode(amount, topic)

    production = AvroCodec(Amount, AMOUNT_SCHEMA).bind(registry, auto_register=False)
    assert production.encode(amount, topic) == released  # same schema id, found by lookup
    assert production.decode(released, topic) == amount

    unreleased = AvroCodec(Total, TOTAL_SCHEMA).bind(registry, auto_register=False)
    total = Total(event_id="e1", account="a", amount=1, total=1, count=1)
    with pytest.raises(FatalError):
        unreleased.encode(total, unique_name("never-registered"))


def test_the_codec_writes_and_reads_the_bytes_of_confluent_kafkas_avro_serdes(
    stack: StackEndpoints, unique_name: Callable[[str], str]
) -> None:
    """fastavro + the wire header, against confluent-kafka's AvroSerializer/AvroDeserializer: the
    same bytes both ways, on a canonical order (nested unions of records, decimals, enums)."""
    topic = unique_name("serde-wire")
    registry = registry_client(SchemaRegistrySettings(url=stack.schema_registry_url))
    schema = schema_text(OrderEvent.avro_name())
    codec = AvroCodec(OrderEvent, schema).bind(registry, auto_register=True)
    context = SerializationContext(topic, MessageField.VALUE)
    confluent_writer = AvroSerializer(registry, schema, lambda value, _ctx: value.model_dump())
    confluent_reader = AvroDeserializer(registry, schema, lambda data, _ctx: OrderEvent.model_validate(data))
    order = sample_order_event()

    ours = codec.encode(order, topic)
    theirs = confluent_writer(order, context)

    assert ours == theirs
    assert confluent_reader(ours, context) == order
    assert codec.decode(theirs, topic) == order
    amount = Amount(event_id="e1", account="a", amount=1, occurred_at=datetime(2026, 5, 1, tzinfo=UTC))
    amounts = unique_name("serde-wire-amounts")
    flat = AvroCodec(Amount, AMOUNT_SCHEMA).bind(registry, auto_register=True).encode(amount, amounts)
    assert flat == AvroSerializer(registry, AMOUNT_SCHEMA, lambda value, _ctx: value.model_dump())(
        amount, SerializationContext(amounts, MessageField.VALUE)
    )


_GENERATED = [OrderEvent, StockMovementEvent, JournalEntryEvent]


@pytest.mark.parametrize("model", _GENERATED, ids=lambda m: m.__name__)
def test_generated_canonical_events_have_confluent_kafkas_bytes(
    model: type[AvroRecord], stack: StackEndpoints, unique_name: Callable[[str], str]
) -> None:
    """The compiled encoder and decoder on generated events, against confluent-kafka's serdes."""
    topic = unique_name("serde-generated")
    registry = registry_client(SchemaRegistrySettings(url=stack.schema_registry_url))
    schema = schema_text(model.avro_name())
    codec = AvroCodec(model, schema).bind(registry, auto_register=True)
    context = SerializationContext(topic, MessageField.VALUE)
    confluent_writer = AvroSerializer(registry, schema, lambda value, _ctx: value.model_dump())
    confluent_reader = AvroDeserializer(registry, schema, lambda data, _ctx: model.model_validate(data))

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(event=model_strategy(model))
    def check(event: AvroRecord) -> None:
        ours = codec.encode(event, topic)
        assert ours == confluent_writer(event, context)
        assert confluent_reader(ours, context) == event
        assert codec.decode(ours, topic) == event

    check()
