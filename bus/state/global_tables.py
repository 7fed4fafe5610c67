"""Global tables: every partition of a compacted topic, read by every instance into a local store.

Like Kafka Streams' GlobalKTable: no consumer group (partitions are assigned by hand, offsets are
kept with the data, never committed), ``read_committed``, from the beginning (or from where the
local snapshot left off), tombstones delete. One background thread per process tails all global
topics; :meth:`GlobalTables.wait_caught_up` blocks until each partition reached the end it had
when the thread started, and the runtime calls it before it subscribes, so an instance never
processes a record (nor reports ready) before its global tables are complete. Later updates
apply while the service runs: a handler sees the table as of *now*, so a replay after a crash can
see a newer value than the first run did (as with a GlobalKTable).

Values are kept as the topic's bytes, one database per (table, partition) with the offset it
reflects, and decoded with the table's codec when read.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient

from bus.config import StateBackend
from bus.errors import FatalError
from bus.observability.logging import get_logger
from bus.serde import BoundCodec
from bus.service import GlobalInput
from bus.state.backends import KVBackend, open_backend

__all__ = ["GlobalTable", "GlobalTableView", "GlobalTables"]

_ABSENT: Any = object()
_BATCH = 5_000


class GlobalTableView:
    """Read-only ``StateView`` of one global table: the latest value of a key, decoded."""

    def __init__(self, table: GlobalTable) -> None:
        self._table = table

    def get(self, key: str, default: Any = None) -> Any:
        raw = self._table.get(key.encode())
        return default if raw is None else self._table.codec.decode(raw, self._table.topic)

    def __contains__(self, key: str) -> bool:
        return self._table.get(key.encode()) is not None


class GlobalTable:
    """One table's partitions (raw bytes per key) and the codec its values are read with."""

    def __init__(self, spec: GlobalInput, codec: BoundCodec, parts: list[KVBackend]) -> None:
        self.topic = spec.topic
        self.codec = codec
        self.parts = parts
        self.lock = threading.Lock()  # one writer thread, reader threads; SQLite shares a connection

    def get(self, key: bytes) -> bytes | None:
        with self.lock:
            for part in self.parts:  # a key lives in one partition; which one is the producer's choice
                raw = part.get(key)
                if raw is not None:
                    return raw
        return None


class GlobalTables:
    def __init__(
        self,
        specs: Sequence[GlobalInput],
        codecs: Mapping[str, BoundCodec],
        directory: Path,
        backend: StateBackend,
        client_config: Mapping[str, str],
        group: str,
    ) -> None:
        self._specs = list(specs)
        self._codecs = codecs
        self._directory = directory
        self._backend = backend
        self._client_config: dict[str, Any] = dict(client_config)
        self._group = group
        self._tables: dict[str, GlobalTable] = {}
        self._names = frozenset(spec.store for spec in specs)
        self._caught_up = threading.Event()
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._log = get_logger(component="global-tables")

    def __contains__(self, store: str) -> bool:
        return store in self._names

    def view(self, store: str) -> GlobalTableView:
        return GlobalTableView(self._tables[store])

    def start(self) -> None:
        """Open the local stores and start tailing the topics."""
        if not self._specs:
            self._caught_up.set()
            return
        admin = AdminClient(dict(self._client_config))
        metadata = admin.list_topics(timeout=30)
        for spec in self._specs:
            topic = metadata.topics.get(spec.topic)
            if topic is None or topic.error is not None or not topic.partitions:
                raise FatalError(f"global table topic {spec.topic} does not exist")
            parts = [
                open_backend(self._backend, self._directory / spec.store / str(p))
                for p in sorted(topic.partitions)
            ]
            self._tables[spec.store] = GlobalTable(spec, self._codecs[spec.topic], parts)
        self._thread = threading.Thread(target=self._run, name="esb-global-tables", daemon=True)
        self._thread.start()

    def wait_caught_up(self, timeout_s: float) -> None:
        if not self._caught_up.wait(timeout_s):
            raise FatalError(f"global tables did not catch up in {timeout_s}s")
        if self._failure is not None:
            raise FatalError(f"global tables failed: {self._failure!r}") from self._failure

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        for table in self._tables.values():
            with table.lock:
                for part in table.parts:
                    part.close()

    # -- the tailing thread ------------------------------------------------------------------------
    def _run(self) -> None:
        consumer = Consumer(
            {
                **self._client_config,
                "group.id": self._group,  # required by the client; never joined, never committed
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
            }
        )
        try:
            self._tail(consumer)
        except BaseException as exc:
            self._failure = exc
            self._log.error("global tables stopped", error=repr(exc))
            self._caught_up.set()  # wake the waiter, which raises
        finally:
            consumer.close()

    def _tail(self, consumer: Consumer) -> None:
        by_tp: dict[tuple[str, int], tuple[GlobalTable, KVBackend]] = {}
        assignment = []
        for table in self._tables.values():
            for partition, part in enumerate(table.parts):
                last = part.changelog_offset()
                by_tp[(table.topic, partition)] = (table, part)
                start = OFFSET_BEGINNING if last is None else last + 1
                assignment.append(TopicPartition(table.topic, partition, start))
        pending: set[tuple[str, int]] = set()  # partitions not yet at the end they had at start
        for position in assignment:
            _, high = consumer.get_watermark_offsets(
                TopicPartition(position.topic, position.partition), timeout=10
            )
            if max(position.offset, 0) < high:  # OFFSET_BEGINNING is negative
                pending.add((position.topic, position.partition))
        consumer.assign(assignment)
        while not self._stop.is_set():
            changes: dict[tuple[str, int], dict[bytes, bytes | None]] = {}
            offsets: dict[tuple[str, int], int] = {}
            for message in consumer.consume(num_messages=_BATCH, timeout=0.2):
                tp = (message.topic() or "", message.partition() or 0)
                error = message.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        raise FatalError(f"global table {tp}: {error}")
                    pending.discard(tp)
                    continue
                key = message.key()
                offset = message.offset()
                if offset is not None:
                    offsets[tp] = offset
                if key is not None:
                    changes.setdefault(tp, {})[key] = message.value()  # None: tombstone
            for tp, offset in offsets.items():
                table, part = by_tp[tp]
                with table.lock:
                    part.write(changes.get(tp, {}), offset)
            if not pending and not self._caught_up.is_set():
                self._log.info("global tables caught up", tables=sorted(self._tables))
                self._caught_up.set()
