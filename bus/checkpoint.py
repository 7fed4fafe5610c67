"""The transaction boundary: outputs + dead letters + state changelogs + input offsets, atomically.

Records are added one by one (:meth:`Checkpoint.add`); a checkpoint is committed when it holds
``commit_every`` records or is ``commit_interval`` old, on partition revocation, and at shutdown.

Under exactly-once a checkpoint *is* one Kafka transaction:

1. Produce each dirty store partition's changelog records (the last write per key) to the
   changelog partition of the same number as the input partition.
2. Flush the producer: every output, dead letter and changelog record is acknowledged, or the
   transaction is aborted.
3. Send the next input offsets to the transaction with the consumer's group metadata (KIP-447:
   the group generation fences a zombie that lost its partitions).
4. Commit the transaction.
5. Write each store partition's changes to disk together with the changelog offset they reach.
   A crash between 4 and 5 leaves the snapshot behind the changelog; restore catches it up.

At-least-once runs the same steps with an idempotent producer and a synchronous consumer commit
in step 3-4. Any failure raises :class:`bus.errors.TransactionError`; the loop then aborts (or
re-creates the producer), drops the overlays and rewinds to the committed offsets.
"""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from bus.errors import TransactionError, TxnAction, kafka_error_of
from bus.processor import Processed, Record
from bus.producer import TxnProducer
from bus.service import Service, StatePut
from bus.state import StateManager

__all__ = ["Checkpoint"]


class Checkpoint:
    def __init__(
        self,
        service: Service,
        producer: TxnProducer,
        consumer: Consumer,
        state: StateManager,
        commit_every: int,
        commit_interval_s: float,
    ) -> None:
        self._service = service
        self._producer = producer
        self._consumer = consumer
        self._state = state
        self._commit_every = commit_every
        self._commit_interval_s = commit_interval_s
        self._offsets: dict[tuple[str, int], int] = {}
        self._count = 0
        self._started = time.monotonic()

    @property
    def empty(self) -> bool:
        return not self._offsets

    @property
    def size(self) -> int:
        return self._count

    @property
    def full(self) -> bool:
        return self._count >= self._commit_every

    def due(self, now: float | None = None) -> bool:
        """Full, or open for ``commit_interval``; ``now`` is ``time.monotonic()`` if the caller
        has it."""
        if not self._offsets:
            return False
        if self._count >= self._commit_every:
            return True
        return (time.monotonic() if now is None else now) - self._started >= self._commit_interval_s

    def add(self, record: Record, processed: Processed) -> None:
        """Record one processed input: its outputs go into the open transaction, its state changes
        into the overlay, its offset into the checkpoint."""
        if not self._offsets:
            self._started = time.monotonic()
            self._producer.begin()
        topic, partition, offset = record.topic, record.partition, record.offset
        if processed.outputs:
            self._producer.produce_outputs(processed.outputs, (topic, partition, offset))
        if processed.state:
            stores = self._state.opened
            for change in processed.state:
                store = stores.get((change.store, partition)) or self._state.get(change.store, partition)
                if isinstance(change, StatePut):
                    store.put(change.key, change.value)
                else:
                    store.delete(change.key)
        self._offsets[(topic, partition)] = offset + 1
        self._count += 1

    def commit(self) -> None:
        if self.empty:
            return
        # Step 1: changelogs.
        changes: list[tuple[Any, dict[bytes, bytes | None], str]] = []
        for store in self._state.partitions():
            if not store.dirty:
                continue
            topic = self._service.changelog_topic(store.name)
            pending = store.pending_changes()
            self._producer.produce_changelog(topic, store.partition, pending)
            changes.append((store, pending, topic))
        # Step 2: everything acknowledged.
        self._producer.flush()
        offsets = [
            TopicPartition(topic, partition, offset) for (topic, partition), offset in self._offsets.items()
        ]
        if self._producer.transactional:
            # Steps 3 and 4: offsets in the transaction, then commit.
            self._producer.send_offsets(offsets, self._consumer.consumer_group_metadata())
            self._producer.commit()
        else:
            try:
                for result in self._consumer.commit(offsets=offsets, asynchronous=False) or ():
                    if result.error is not None:
                        raise TransactionError(TxnAction.ABORT, "consumer_commit", result.error)
            except KafkaException as exc:
                raise TransactionError(TxnAction.ABORT, "consumer_commit", kafka_error_of(exc)) from exc
        # Step 5: the committed changes become the on-disk snapshot.
        delivered = self._producer.delivered_offsets
        with self._state.lock:  # interactive queries see all of this checkpoint or none of it
            for store, pending, topic in changes:
                store.commit_to_disk(pending, delivered.get((topic, store.partition)))
        self._reset()

    def abort(self) -> None:
        """Abort the open transaction (if any) and forget everything this checkpoint collected."""
        try:
            self._producer.abort()
        finally:
            for store in self._state.partitions():
                store.discard()
            self._reset()

    def forget(self) -> None:
        """Drop the checkpoint without touching the producer (it was re-created)."""
        for store in self._state.partitions():
            store.discard()
        self._reset()

    def _reset(self) -> None:
        self._offsets.clear()
        self._count = 0
        self._started = time.monotonic()
