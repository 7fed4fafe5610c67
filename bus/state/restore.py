"""Restore: bring a store partition's on-disk snapshot up to its changelog's committed end.

The snapshot records the offset of the last changelog record it contains; restore reads from the
next offset with ``isolation.level=read_committed`` (aborted writes of zombies are skipped) until
librdkafka reports the partition's end (``_PARTITION_EOF``, which under read_committed is the last
stable offset), writing in atomic batches that move the offset along with the data.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from bus.state.store import StorePartition

__all__ = ["RestoreTarget", "restore"]

_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class RestoreTarget:
    store: StorePartition
    changelog_topic: str


def restore(
    client_config: Mapping[str, str], group_id: str, targets: Sequence[RestoreTarget], timeout_s: float
) -> int:
    """Restore every target; returns the number of changelog records applied."""
    if not targets:
        return 0
    consumer = Consumer(
        {
            **client_config,
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        return _restore(consumer, targets, timeout_s)
    finally:
        consumer.close()


def _restore(consumer: Consumer, targets: Sequence[RestoreTarget], timeout_s: float) -> int:
    by_tp: dict[tuple[str, int], StorePartition] = {}
    assignment: list[TopicPartition] = []
    for target in targets:
        store = target.store
        low, high = consumer.get_watermark_offsets(
            TopicPartition(target.changelog_topic, store.partition), timeout=10
        )
        last = store.backend.changelog_offset()
        start = 0 if last is None else last + 1
        if start > high:  # the changelog was recreated: the snapshot belongs to another history
            store.backend.clear()
            start = low
        if start >= high:
            continue
        by_tp[(target.changelog_topic, store.partition)] = store
        assignment.append(TopicPartition(target.changelog_topic, store.partition, max(start, low)))
    if not assignment:
        return 0
    consumer.assign(assignment)
    pending: dict[tuple[str, int], dict[bytes, bytes | None]] = {tp: {} for tp in by_tp}
    last_offset: dict[tuple[str, int], int | None] = dict.fromkeys(by_tp)
    remaining = set(by_tp)
    applied = 0
    deadline = time.monotonic() + timeout_s
    while remaining:
        if time.monotonic() > deadline:
            raise TimeoutError(f"restore did not reach the end of {sorted(remaining)} in {timeout_s}s")
        for message in consumer.consume(num_messages=_BATCH, timeout=0.5):
            tp = (message.topic() or "", message.partition() or 0)
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    raise KafkaException(error)
                _flush(by_tp[tp], pending[tp], last_offset[tp])
                remaining.discard(tp)
                continue
            key = message.key()
            if key is None:
                continue
            value = message.value()
            store = by_tp[tp]
            pending[tp][key] = None if value is None or store.is_expired(value) else value
            last_offset[tp] = message.offset()
            applied += 1
            if len(pending[tp]) >= _BATCH:
                _flush(store, pending[tp], last_offset[tp])
    return applied


def _flush(store: StorePartition, changes: dict[bytes, bytes | None], offset: int | None) -> None:
    if changes or offset is not None:
        store.backend.write(changes, offset)
    changes.clear()
