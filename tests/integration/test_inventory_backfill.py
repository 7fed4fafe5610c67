"""``esb backfill inventory-projector`` on the real broker: the ``.v1`` records in ``.v2``, keyed by SKU."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence

import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from bus.clients import PARTITIONER
from bus.config import BusSettings, KafkaSettings, SchemaRegistrySettings
from schemas.ids import stock_key
from schemas.inventory.models import MovementKind, ReservationEvent, ReservationKind, StockMovementEvent
from schemas.loader import schema_text
from services.inventory_projector.backfill import BackfillError, backfill
from tests.infra import REGISTRY_TIMEOUT_S, StackEndpoints
from tests.integration.inventory_feed import decoder
from tests.integration.runtime.harness import read_all
from tests.inventory_support import movement, reservation

pytestmark = pytest.mark.integration

PARTITIONS = 3


def _fill(stack: StackEndpoints, topic: str, values: Sequence[StockMovementEvent | ReservationEvent]) -> None:
    registry = SchemaRegistryClient({"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S})
    serialize = AvroSerializer(registry, schema_text(type(values[0]).avro_name()), lambda v, _c: v.to_avro())
    producer = Producer(
        {"bootstrap.servers": stack.bootstrap_servers, "enable.idempotence": True, "partitioner": PARTITIONER}
    )
    context = SerializationContext(topic, MessageField.VALUE)
    for index, value in enumerate(values):
        key = str(stock_key(value.sku, value.location)).encode()
        producer.produce(topic, serialize(value, context), key=key, timestamp=1_000 + index)
    producer.produce(topic, b"not avro", key=b"some-key", timestamp=5)
    # A valid value under a key that is not its stock_key: dead-lettered on .v1, so it keeps its key.
    producer.produce(topic, serialize(values[0], context), key=b"wrong-key", timestamp=6)
    assert producer.flush(30) == 0


def test_backfill_copies_every_record_keyed_by_sku_in_position_order(
    stack: StackEndpoints, create_topic: Callable[..., str]
) -> None:
    rng = random.Random(8)
    places = [(f"SKU-{s}", f"L{loc}") for s in range(6) for loc in range(4)]
    movements = []
    for index in range(400):
        sku, location = rng.choice(places)
        movements.append(movement(MovementKind.RECEIPT, index + 1, index, sku=sku, location=location))
    reservations = [
        reservation(ReservationKind.RESERVE, 1, i, reservation_id=uuid.uuid4(), sku=sku, location=loc)
        for i, (sku, loc) in enumerate(places)
    ]
    topics = {name: create_topic(name, PARTITIONS) for name in ("mv1", "mv2", "rs1", "rs2")}
    _fill(stack, topics["mv1"], movements)
    _fill(stack, topics["rs1"], reservations)
    bus = BusSettings(
        kafka=KafkaSettings(bootstrap_servers=stack.bootstrap_servers),
        schema_registry=SchemaRegistrySettings(url=stack.schema_registry_url),
    )
    pairs = [
        (topics["mv1"], topics["mv2"], StockMovementEvent),
        (topics["rs1"], topics["rs2"], ReservationEvent),
    ]
    copied = backfill(bus, pairs, timeout_s=120)
    assert copied == {
        topics["mv1"]: len(movements),
        f"{topics['mv1']} kept key": 2,
        topics["rs1"]: len(reservations),
        f"{topics['rs1']} kept key": 2,
    }
    with pytest.raises(BackfillError, match="already holds records"):
        backfill(bus, pairs, timeout_s=120)  # a second run would append the history again
    for source, target, count in (("mv1", "mv2", len(movements)), ("rs1", "rs2", len(reservations))):
        before = read_all(stack.bootstrap_servers, topics[source], PARTITIONS)
        after = read_all(stack.bootstrap_servers, topics[target], PARTITIONS)
        assert sorted((m.value(), m.timestamp()[1]) for m in after) == sorted(
            (m.value(), m.timestamp()[1]) for m in before
        )
        partition_of: dict[bytes, set[int]] = defaultdict(set)
        for message in after:
            partition_of[message.key()].add(message.partition())
        assert all(len(found) == 1 for found in partition_of.values()), "a SKU in two partitions"
        kept = {b"some-key", b"wrong-key"}
        assert {key for key in partition_of} == {f"SKU-{s}".encode() for s in range(6)} | kept
        assert len(after) == count + 2

    # Each position's records in .v2 are in its .v1 order (the feed's quantities increase).
    decode = decoder(stack.schema_registry_url, StockMovementEvent)
    by_position: dict[tuple[str, str], list[int]] = defaultdict(list)
    for message in read_all(stack.bootstrap_servers, topics["mv2"], PARTITIONS):
        if message.key() not in (b"some-key", b"wrong-key"):
            value = decode(message.value(), topics["mv2"])
            assert message.key() == value.sku.encode()
            by_position[(value.sku, value.location)].append(value.quantity)
    assert sum(len(q) for q in by_position.values()) == len(movements)
    assert all(quantities == sorted(quantities) for quantities in by_position.values())
