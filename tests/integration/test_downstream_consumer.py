"""The contract downstream teams rely on: with nothing but confluent-kafka's ``AvroDeserializer`` and
the registry URL, every canonical topic is readable.

Producer side as in production: topics from the catalog, schemas registered by ``esb schemas
register``, serializers that never auto-register. Consumer side knows no schema and no model.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext, StringSerializer
from hypothesis import Phase, find, settings

from esb.governance.catalog import Catalog, load_catalog
from esb.governance.registry import register_catalog
from esb.governance.topics import apply_catalog
from schemas.base import AvroRecord
from schemas.events import event_model
from schemas.loader import schema_text
from tests.canonical_samples import sample_order_event
from tests.canonical_strategies import model_strategy
from tests.infra import REGISTRY_TIMEOUT_S, StackEndpoints

pytestmark = pytest.mark.integration


@pytest.fixture
def canonical_topics(
    kafka_admin: AdminClient, schema_registry_conf: dict[str, str], unique_name: Callable[[str], str]
) -> Iterator[Catalog]:
    full = load_catalog()
    subset = full.model_copy(update={"topics": full.avro_topics()})
    catalog = subset.for_environment(prefix=unique_name("downstream") + ".", replication_factor=1)
    catalog = catalog.model_copy(update={"defaults": catalog.defaults.model_copy(update={"partitions": 1})})
    registry = SchemaRegistryClient(schema_registry_conf)
    apply_catalog(kafka_admin, catalog)
    register_catalog(registry, catalog)
    yield catalog
    for future in kafka_admin.delete_topics([t.name for t in catalog.topics]).values():
        with contextlib.suppress(KafkaException):
            future.result(timeout=30)
    for topic in catalog.topics:
        with contextlib.suppress(SchemaRegistryError):
            registry.delete_subject(topic.avro_value()[0])
            registry.delete_subject(topic.avro_value()[0], permanent=True)


def _instance(model: type[AvroRecord]) -> AvroRecord:
    if model.avro_name() == "com.esb.canonical.orders.OrderEvent":
        return sample_order_event()
    # A deterministic, minimal valid instance; the contract tests cover the variety.
    quick = settings(database=None, max_examples=1, phases=[Phase.generate])
    return find(model_strategy(model), lambda _: True, settings=quick)


def _produce_all(stack: StackEndpoints, catalog: Catalog, registry: SchemaRegistryClient) -> dict[str, Any]:
    producer = Producer({"bootstrap.servers": stack.bootstrap_servers, "enable.idempotence": True})
    keys = StringSerializer("utf_8")
    expected = {}
    for topic in catalog.topics:
        _subject, record = topic.avro_value()
        model = event_model(record)
        serializer = AvroSerializer(
            registry,
            schema_text(record),
            lambda event, _ctx: event.to_avro(),
            {"auto.register.schemas": False, "normalize.schemas": False},
        )
        event = _instance(model)
        value = serializer(event, SerializationContext(topic.name, MessageField.VALUE))
        key = keys(str(event.metadata.event_id), SerializationContext(topic.name, MessageField.KEY))
        producer.produce(topic.name, key=key, value=value)
        expected[topic.name] = event.to_avro()
    assert producer.flush(30) == 0
    return expected


def _consume_all(stack: StackEndpoints, topics: list[str], group: str) -> dict[str, Any]:
    """Exactly what a downstream team writes: a consumer, the registry URL, AvroDeserializer."""
    deserializer = AvroDeserializer(
        SchemaRegistryClient({"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S})
    )
    consumer = Consumer(
        {"bootstrap.servers": stack.bootstrap_servers, "group.id": group, "auto.offset.reset": "earliest"}
    )
    consumer.subscribe(topics)
    received: dict[str, Any] = {}
    deadline = time.monotonic() + 60
    try:
        while len(received) < len(topics) and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None or message.error() is not None:
                continue
            context = SerializationContext(message.topic(), MessageField.VALUE)
            received[message.topic()] = deserializer(message.value(), context)
    finally:
        consumer.close()
    return received


def test_every_canonical_topic_reads_with_avro_deserializer_and_registry_url(
    stack: StackEndpoints,
    canonical_topics: Catalog,
    schema_registry_conf: dict[str, str],
    unique_name: Callable[[str], str],
) -> None:
    expected = _produce_all(stack, canonical_topics, SchemaRegistryClient(schema_registry_conf))
    received = _consume_all(stack, list(expected), unique_name("downstream-group"))
    assert set(received) == set(expected)
    for topic, value in expected.items():
        assert received[topic] == value, topic
    order_topic = next(t for t in expected if t.endswith("canonical.orders.v1"))
    assert str(received[order_topic]["order"]["totals"]["total"]["amount"]) == "211.6100"
