"""A seeded, messy stream of stock movements for the projector's integration tests and benchmark:
late and out-of-order timestamps, absolute counts (some stale), re-deliveries of the same movement.

Keyed by SKU like ``canonical.stock-movements.v2`` (the projector's input), and partitioned like the
runtime's producers do (``murmur2_random``, ``bus.clients``)."""

from __future__ import annotations

import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from bus.clients import PARTITIONER
from schemas.common.models import EventMetadata, SourceRef
from schemas.inventory.models import InventoryLevel, MovementKind, ReservationEvent, StockMovementEvent
from schemas.loader import schema_text
from tests.infra import REGISTRY_TIMEOUT_S

__all__ = ["MovementFeed", "decoder"]

_DELTAS = [
    (MovementKind.SHIPMENT, 40, -3, -1),
    (MovementKind.RECEIPT, 25, 1, 20),
    (MovementKind.ADJUSTMENT, 10, -2, 2),
    (MovementKind.RETURN_RESTOCK, 5, 1, 2),
    (MovementKind.TRANSFER_OUT, 5, -5, -1),
    (MovementKind.TRANSFER_IN, 5, 1, 5),
]


def decoder(registry_url: str, model: type[Any]) -> Any:
    """Avro bytes -> pydantic model (the registry's schema for the subject)."""
    deserialize = AvroDeserializer(
        SchemaRegistryClient({"url": registry_url, "timeout": REGISTRY_TIMEOUT_S}),
        schema_text(model.avro_name()),
    )

    def decode(data: bytes, topic: str) -> Any:
        return model.model_validate(deserialize(data, SerializationContext(topic, MessageField.VALUE)))

    return decode


@dataclass
class MovementFeed:
    bootstrap: str
    registry_url: str
    topic: str
    skus: int = 200
    locations: int = 5
    seed: int = 8
    count_share: float = 0.05
    repeat_share: float = 0.05
    sent: int = 0
    sent_at: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        registry = SchemaRegistryClient({"url": self.registry_url, "timeout": REGISTRY_TIMEOUT_S})
        schema = schema_text(StockMovementEvent.avro_name())
        self._serialize = AvroSerializer(registry, schema, lambda value, _ctx: value.to_avro())
        # The runtime's partitioner: a stock position's movements land where its reservations do.
        self._producer = Producer(
            {
                "bootstrap.servers": self.bootstrap,
                "linger.ms": 20,
                "enable.idempotence": True,
                "partitioner": PARTITIONER,
            }
        )
        self._rng = random.Random(self.seed)
        self._history: list[tuple[bytes, bytes]] = []
        self._sequence: dict[tuple[str, str], int] = defaultdict(int)
        self._clock_ms = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)

    def _next(self) -> StockMovementEvent:
        rng = self._rng
        sku, location = f"SKU-{rng.randrange(self.skus):05d}", f"L{rng.randrange(self.locations):02d}"
        self._clock_ms += 1
        at = self._clock_ms + rng.randint(-500, 500)  # late and early arrivals
        sequence = None
        if rng.random() < self.count_share:
            kind, quantity = MovementKind.ABSOLUTE_COUNT, rng.randint(0, 150)
            at -= rng.randint(0, 3000)  # counts arrive late, some behind deltas they did not see
            self._sequence[(sku, location)] += 1
            sequence = self._sequence[(sku, location)]
        else:
            kind, _, low, high = rng.choices(_DELTAS, weights=[d[1] for d in _DELTAS])[0]
            quantity = rng.randint(low, high)
        occurred = datetime.fromtimestamp(at / 1000, UTC)
        return StockMovementEvent(
            metadata=EventMetadata(
                event_id=uuid.uuid4(),
                event_type="stock.moved",
                occurred_at=occurred,
                ingested_at=datetime.now(UTC),
                source=SourceRef(system="wms", account="dc", entity="movement", native_id=str(self.sent)),
            ),
            movement_id=uuid.uuid4(),
            kind=kind,
            sku=sku,
            location=location,
            quantity=quantity,
            source_sequence=sequence,
        )

    def records(
        self, count: int, serialize: Callable[[StockMovementEvent], bytes], record_time: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """The next ``count`` (key, value) pairs; the in-process benchmark serializes its own way."""
        for _ in range(count):
            if self._history and self._rng.random() < self.repeat_share:
                key, value = self._rng.choice(self._history)  # a re-delivery, byte for byte
            else:
                movement = self._next()
                key = movement.sku.encode()
                value = serialize(movement)
                if len(self._history) < 50_000:
                    self._history.append((key, value))
                if record_time:
                    self.sent_at[str(movement.metadata.event_id)] = time.time()
            yield key, value

    def send(self, count: int, record_time: bool = False) -> None:
        context = SerializationContext(self.topic, MessageField.VALUE)

        def serialize(movement: StockMovementEvent) -> bytes:
            value: bytes = self._serialize(movement, context)
            return value

        for key, value in self.records(count, serialize, record_time):
            self._produce(key, value)
            self.sent += 1
        self._producer.flush(60)

    def send_raw(self, key: bytes, value: bytes) -> None:
        self._produce(key, value)
        self._producer.flush(30)

    def _produce(self, key: bytes, value: bytes) -> None:
        while True:
            try:
                self._producer.produce(self.topic, value, key=key)
                self._producer.poll(0)
                return
            except BufferError:
                self._producer.poll(0.05)


def level_decoder(registry_url: str) -> Any:
    return decoder(registry_url, InventoryLevel)


def reservation_serializer(registry_url: str) -> Any:
    registry = SchemaRegistryClient({"url": registry_url, "timeout": REGISTRY_TIMEOUT_S})
    return AvroSerializer(registry, schema_text(ReservationEvent.avro_name()), lambda v, _c: v.to_avro())
