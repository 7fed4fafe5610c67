"""Run services without Kafka: the production record path over in-memory topics and stores.

``InMemoryBus`` binds each service's codecs to confluent-kafka's ``mock://`` registry, feeds
records through the same :class:`bus.processor.RecordProcessor` the runtime uses, applies state
changes to in-memory stores and routes emitted records to every service consuming their topic.
For handler and chain tests in the unit tier.
"""

from __future__ import annotations

import uuid
from collections import defaultdict, deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import TracerProvider

from bus.config import SchemaRegistrySettings
from bus.observability.metrics import Metrics
from bus.observability.tracing import Tracing
from bus.processor import OutRecord, Record, RecordProcessor
from bus.query import QueryAnswer, QueryRouter, StateSnapshot
from bus.retry import RetryPolicy
from bus.serde import BoundCodec, registry_client
from bus.service import Service, StatePut, StateView
from bus.state.global_tables import GlobalTable, GlobalTableView
from bus.state.store import StorePartition, encode_value

__all__ = ["InMemoryBus", "MemoryBackend", "StaticState"]


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
    metrics: Metrics
    tables: dict[str, GlobalTable]


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
        tables = {
            spec.store: GlobalTable(spec, spec.codec.bind(registry, auto_register=True), [MemoryBackend()])
            for spec in service.globals
        }
        self._codecs.update(decoders)
        self._codecs.update(encoders)
        self._codecs.update({table.topic: table.codec for table in tables.values()})
        stores: dict[tuple[str, int], StorePartition] = {}

        def lookup(store: str, partition: int) -> StateView:
            if store in tables:
                return GlobalTableView(tables[store])
            return _store(stores, store)

        metrics = Metrics(service.name)
        processor = RecordProcessor(
            service,
            decoders,
            encoders,
            lookup,
            retry or RetryPolicy(attempts=3, initial_backoff_s=0, max_backoff_s=0),
            Tracing(self._provider, group=service.name),
            metrics,
            sleep=lambda _seconds: None,
        )
        self._services.append(_Deployed(service, processor, stores, metrics, tables))

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
                for table in deployed.tables.values():
                    if table.topic == out.topic and out.key is not None:
                        table.parts[0].write({out.key: out.value}, offset)  # None deletes
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
        return self._deployed(service).stores[(store, partition)]

    def metrics(self, service: str) -> Metrics:
        """The runtime metrics of ``service`` (its own metrics are registered on ``.registry``)."""
        return self._deployed(service).metrics

    def query(self, service: str, path: str) -> QueryAnswer:
        """Answer a GET of ``path`` with ``service``'s declared queries (404 when none matches)."""
        deployed = self._deployed(service)
        answer = QueryRouter(deployed.service.queries, _MemorySnapshots(deployed)).answer(path)
        return answer or QueryAnswer(404, b"not found", {})

    def _deployed(self, service: str) -> _Deployed:
        for deployed in self._services:
            if deployed.service.name == service:
                return deployed
        raise KeyError(service)


class _MemorySnapshots:
    def __init__(self, deployed: _Deployed) -> None:
        self._deployed = deployed

    @contextmanager
    def snapshot(self, timeout_s: float) -> Iterator[StateSnapshot]:
        for spec in self._deployed.service.stores:
            _store(self._deployed.stores, spec.name)
        yield StateSnapshot({name: [part] for (name, _), part in self._deployed.stores.items()})


def _store(stores: dict[tuple[str, int], StorePartition], name: str) -> StorePartition:
    """In memory every store has the single partition 0."""
    if (name, 0) not in stores:
        stores[(name, 0)] = StorePartition(name, 0, MemoryBackend())
    return stores[(name, 0)]


class StaticState:
    """A fixed committed state for query tests: ``{store: [partition 0 dict, partition 1 dict, ...]}``."""

    def __init__(self, stores: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self._parts: dict[str, list[StorePartition]] = {}
        for name, partitions in stores.items():
            self._parts[name] = []
            for number, data in enumerate(partitions):
                backend = MemoryBackend()
                backend.write({k.encode(): encode_value(v, None) for k, v in data.items()}, None)
                self._parts[name].append(StorePartition(name, number, backend))

    @contextmanager
    def snapshot(self, timeout_s: float) -> Iterator[StateSnapshot]:
        yield StateSnapshot(self._parts)
