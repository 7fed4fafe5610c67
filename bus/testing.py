"""Run services without Kafka: the production record path over in-memory topics and stores.

``InMemoryBus`` binds each service's codecs to confluent-kafka's ``mock://`` registry, feeds
records through the same :class:`bus.processor.RecordProcessor` the runtime uses, applies state
changes to in-memory stores and routes emitted records to every service consuming their topic.
For handler and chain tests in the unit tier.
"""

from __future__ import annotations

import uuid
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import TracerProvider

from bus.config import SchemaRegistrySettings
from bus.observability.metrics import Metrics
from bus.observability.tracing import Tracing
from bus.processor import OutRecord, Record, RecordProcessor
from bus.retry import RetryPolicy
from bus.serde import BoundCodec, registry_client
from bus.service import Service, StatePut
from bus.state.store import StorePartition

__all__ = ["InMemoryBus", "MemoryBackend"]


class MemoryBackend:
    """A dict with the :class:`bus.state.backends.KVBackend` interface."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.offset: int | None = None

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def changelog_offset(self) -> int | None:
        return self.offset

    def write(self, changes: Mapping[bytes, bytes | None], changelog_offset: int | None) -> None:
        for key, value in changes.items():
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value
        if changelog_offset is not None:
            self.offset = changelog_offset

    def clear(self) -> None:
        self.data.clear()
        self.offset = None

    def close(self) -> None:
        return None


@dataclass
class _Deployed:
    service: Service
    processor: RecordProcessor
    stores: dict[tuple[str, int], StorePartition]


class InMemoryBus:
    """Topics as lists; every record is delivered to each service subscribed to its topic."""

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self._registry = registry_client(SchemaRegistrySettings(url=f"mock://{uuid.uuid4().hex}"))
        self._provider = tracer_provider
        self._services: list[_Deployed] = []
        self.topics: dict[str, list[OutRecord]] = defaultdict(list)
        self._codecs: dict[str, BoundCodec] = {}

    def deploy(self, service: Service, retry: RetryPolicy | None = None) -> None:
        registry = self._registry
        decoders = {spec.topic: spec.codec.bind(registry, auto_register=True) for spec in service.inputs}
        encoders = {spec.topic: spec.codec.bind(registry, auto_register=True) for spec in service.outputs}
        self._codecs.update(decoders)
        self._codecs.update(encoders)
        stores: dict[tuple[str, int], StorePartition] = {}

        def lookup(store: str, partition: int) -> StorePartition:
            return _store(stores, store)

        processor = RecordProcessor(
            service,
            decoders,
            encoders,
            lookup,
            retry or RetryPolicy(attempts=3, initial_backoff_s=0, max_backoff_s=0),
            Tracing(self._provider, group=service.name),
            Metrics(service.name),
            sleep=lambda _seconds: None,
        )
        self._services.append(_Deployed(service, processor, stores))

    def encode(self, topic: str, value: Any) -> bytes:
        return self._codecs[topic].encode(value, topic)

    def decode(self, topic: str, data: bytes) -> Any:
        return self._codecs[topic].decode(data, topic)

    def publish(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        """Append a record and process it (and whatever it causes) to completion, in order."""
        queue: deque[OutRecord] = deque([OutRecord(topic, key, value, list(headers))])
        while queue:
            out = queue.popleft()
            offset = len(self.topics[out.topic])
            self.topics[out.topic].append(out)
            for deployed in self._services:
                if out.topic not in {spec.topic for spec in deployed.service.inputs}:
                    continue
                record = Record(out.topic, 0, offset, out.key, out.value, list(out.headers))
                processed = deployed.processor.process(record)
                for change in processed.state:
                    store = _store(deployed.stores, change.store)
                    if isinstance(change, StatePut):
                        store.put(change.key, change.value)
                    else:
                        store.delete(change.key)
                    store.commit_to_disk(store.pending_changes(), None)
                queue.extend(processed.outputs)

    def state(self, service: str, store: str, partition: int = 0) -> StorePartition:
        for deployed in self._services:
            if deployed.service.name == service:
                return deployed.stores[(store, partition)]
        raise KeyError(service)


def _store(stores: dict[tuple[str, int], StorePartition], name: str) -> StorePartition:
    """In memory every store has the single partition 0."""
    if (name, 0) not in stores:
        stores[(name, 0)] = StorePartition(name, 0, MemoryBackend())
    return stores[(name, 0)]
