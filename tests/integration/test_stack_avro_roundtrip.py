"""An Avro record produced through the real schema registry and read back from the real broker."""

from __future__ import annotations

import struct
from collections.abc import Callable
from decimal import Decimal

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.infra import REGISTRY_TIMEOUT_S, StackEndpoints

pytestmark = pytest.mark.integration

_SCHEMA = """
{"type": "record", "name": "Probe", "namespace": "com.esb.test",
 "fields": [
   {"name": "order_id", "type": "string"},
   {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 4}},
   {"name": "currency", "type": "string"}
 ]}
"""


def test_avro_record_round_trips_in_confluent_wire_format(
    stack: StackEndpoints, create_topic: Callable[..., str], unique_name: Callable[[str], str]
) -> None:
    topic = create_topic("avro-roundtrip", partitions=1)
    registry = SchemaRegistryClient({"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S})
    serializer = AvroSerializer(registry, _SCHEMA)
    value = {"order_id": "ord-1", "amount": Decimal("598.9400"), "currency": "USD"}
    payload = serializer(value, SerializationContext(topic, MessageField.VALUE))
    assert payload is not None

    producer = Producer(
        {"bootstrap.servers": stack.bootstrap_servers, "acks": "all", "enable.idempotence": True}
    )
    producer.produce(topic, key=b"ord-1", value=payload)
    assert producer.flush(30) == 0

    consumer = Consumer(
        {
            "bootstrap.servers": stack.bootstrap_servers,
            "group.id": unique_name("group"),
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    try:
        message = None
        for _ in range(60):
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                break
        assert message is not None
        assert message.error() is None
        raw = message.value()
    finally:
        consumer.close()

    # Confluent wire format: magic byte 0, then the registry's 4-byte big-endian schema id.
    magic, schema_id = struct.unpack(">bI", raw[:5])
    registered = registry.get_latest_version(f"{topic}-value")
    assert magic == 0
    assert schema_id == registered.schema_id
    assert registry.get_schema(schema_id).schema_type in (None, "AVRO")

    decoded = AvroDeserializer(registry)(raw, SerializationContext(topic, MessageField.VALUE))
    assert decoded == value
    assert isinstance(decoded["amount"], Decimal)
