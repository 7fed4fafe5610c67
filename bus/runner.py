"""The processing loop: poll, process, checkpoint; rebalances; recovery from Kafka errors.

Recovery, by :class:`bus.errors.TxnAction`:

- ``ABORT``: abort the transaction, drop the state overlays, rewind every assigned partition to
  its committed offset, catch the stores up from their changelogs, go on.
- ``RECREATE``: the producer is fatal or the outcome of a commit is unknown (timeout): re-create
  it (``init_transactions`` completes or aborts what the old one left), then as for ABORT.
- More than ``max_failed_checkpoints`` failures in a row crash the process (a failure that
  repeats on the same records is not transient; a restart with a fresh client is the next step).
- ``CRASH``: fenced by a newer instance of this identity, or misconfigured: raise FatalError.

Rebalances: on revoke the checkpoint is committed (KIP-447: before the partitions move); on lost
partitions it is aborted; on assign the stores of the new partitions are restored before any of
their records is processed.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Sequence
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, TopicPartition

from bus.checkpoint import Checkpoint
from bus.errors import FatalError, Source, TransactionError, TxnAction
from bus.observability.health import Health
from bus.observability.logging import get_logger
from bus.observability.metrics import Metrics
from bus.processor import Record, RecordProcessor
from bus.producer import TxnProducer
from bus.state import StateManager

__all__ = ["Runner", "message_record", "settle_heap"]

_LAG_EVERY_S = 5.0
# The loop makes a few dozen short-lived objects per record (records, events, models, lists). With
# CPython's default thresholds (700, 10, 10) a young collection runs every ~20 records and the
# older generations keep re-scanning everything built at startup (~80,000 objects: modules,
# schemas, codecs, clients). Freezing those when the loop starts (they live as long as the
# process) and collecting the young generation every 10,000 allocations took the Avro map from
# ~53,000 to ~64,000 records per CPU-second (benchmarks/README.md). Reference counting still frees
# every acyclic object at once; only cycles wait for a collection.
_GC_YOUNG_THRESHOLD = 10_000


class Runner:
    def __init__(
        self,
        *,
        service_name: str,
        topics: Sequence[str],
        consumer: Consumer,
        producer: TxnProducer,
        processor: RecordProcessor,
        state: StateManager,
        checkpoint: Checkpoint,
        metrics: Metrics,
        health: Health,
        batch_size: int,
        max_failed_checkpoints: int,
        max_batch_s: float = 30.0,
    ) -> None:
        self._service = service_name
        self._topics = list(topics)
        self._consumer = consumer
        self._producer = producer
        self._processor = processor
        self._state = state
        self._checkpoint = checkpoint
        self._metrics = metrics
        self._health = health
        self._batch_size = batch_size
        self._max_batch_s = max_batch_s
        self._max_failures = max_failed_checkpoints
        self._failures = 0
        self._epoch = 0  # bumped by every rewind: records polled before it are stale
        self._needs_rewind = False
        self._assigned: set[tuple[str, int]] = set()
        self._suspects: set[Source] = set()  # inputs to commit one per transaction (rejected outputs)
        self._lag_at = 0.0
        self._log = get_logger(service=service_name)
        self.processed = 0

    # -- loop ----------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        settle_heap()
        self._producer.start()
        self._consumer.subscribe(
            self._topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )
        self._log.info("running", topics=self._topics, transactional=self._producer.transactional)
        try:
            while not stop.is_set():
                self._step()
            self._commit()
        finally:
            self._health.set_ready(False, "stopping")
            self._consumer.close()
            self._producer.close()
            self._state.close()
            self._log.info("stopped", processed=self.processed)

    def _step(self) -> None:
        self._health.beat()
        if self._needs_rewind:
            self._rewind()
        epoch = self._epoch
        messages = self._consumer.consume(num_messages=self._batch_size, timeout=0.02)
        polled = time.monotonic()
        if epoch != self._epoch:
            return  # a rebalance callback aborted and rewound while we polled
        # The per-record calls, looked up once per batch (the same objects for the whole batch).
        process, checkpoint, monotonic = self._processor.process, self._checkpoint, time.monotonic
        deadline = polled + self._max_batch_s
        for index, message in enumerate(messages):
            error = message.error()
            if error is not None:
                self._consumer_error(error)
                continue
            record = message_record(message)
            suspect = (
                bool(self._suspects) and (record.topic, record.partition, record.offset) in self._suspects
            )
            try:
                processed = process(record)
                if suspect and not checkpoint.empty:
                    checkpoint.commit()
                checkpoint.add(record, processed)
                if suspect:
                    checkpoint.commit()
                    self._suspects.discard((record.topic, record.partition, record.offset))
                    self._failures = 0
            except TransactionError as failure:
                self._recover(failure)
                return
            self.processed += 1
            # Per record, so that a transaction never outlives commit_interval + one retry budget.
            now = monotonic()
            if checkpoint.due(now):
                self._commit()
                if epoch != self._epoch:
                    return
                now = monotonic()
            if now > deadline:
                self._give_back(messages[index + 1 :])  # slow records (retries): poll again in time
                break
        if self._checkpoint.due():
            self._commit()
        self._producer.poll()
        self._observe_lag()

    def _give_back(self, unprocessed: list[Message]) -> None:
        """Seek each partition back to its first unprocessed record of the batch."""
        first: dict[tuple[str, int], int] = {}
        for message in unprocessed:
            if message.error() is None:
                first.setdefault((message.topic() or "", message.partition() or 0), message.offset() or 0)
        for (topic, partition), offset in first.items():
            self._consumer.seek(TopicPartition(topic, partition, offset))

    def _commit(self) -> None:
        if self._checkpoint.empty:
            return
        started = time.perf_counter()
        try:
            self._checkpoint.commit()
        except TransactionError as failure:
            self._recover(failure)
            return
        self._metrics.commit_seconds.labels(self._service, self._guarantee).observe(
            time.perf_counter() - started
        )
        self._failures = 0

    @property
    def _guarantee(self) -> str:
        return "exactly_once" if self._producer.transactional else "at_least_once"

    # -- recovery --------------------------------------------------------------------------------
    def _recover(self, failure: TransactionError) -> None:
        self._log.warning(
            "checkpoint failed", step=failure.step, action=str(failure.action), error=str(failure.error)
        )
        self._metrics.aborts.labels(self._service).inc()
        if failure.rejected and failure.action is not TxnAction.CRASH:
            self._isolate_rejected(failure)
        action = failure.action
        self._failures += 1
        if action is TxnAction.CRASH:
            raise FatalError(f"cannot continue after {failure}") from failure
        if self._failures > self._max_failures:
            raise FatalError(f"{self._failures} checkpoints failed in a row, last: {failure}") from failure
        if action in (TxnAction.ABORT, TxnAction.RETRY):
            try:
                self._checkpoint.abort()
            except TransactionError as abort_failure:
                if abort_failure.action is TxnAction.CRASH:
                    raise FatalError(f"cannot abort: {abort_failure}") from abort_failure
                action = TxnAction.RECREATE
        if action is TxnAction.RECREATE:
            self._metrics.producer_recreations.labels(self._service).inc()
            self._checkpoint.forget()
            self._producer.recreate()
        self._needs_rewind = True
        self._epoch += 1

    def _isolate_rejected(self, failure: TransactionError) -> None:
        """The broker refuses a whole produce batch when it is over ``max.message.bytes``, so every
        input with an output in it comes back rejected. One input: it is the culprit, dead-letter
        it when it comes again. Several: each is processed again in a transaction of its own, where
        a rejection names the culprit alone."""
        rejected = failure.rejected
        sources = [f"{t}[{p}]@{o}" for t, p, o in sorted(rejected)]
        if len(rejected) == 1:
            self._processor.reject(rejected)
            self._log.warning("output refused by the broker: dead-lettering its input", inputs=sources)
        else:
            self._suspects |= set(rejected)
            self._log.warning("outputs refused by the broker: isolating their inputs", inputs=sources)

    def _rewind(self) -> None:
        """Seek every assigned partition to its committed offset and catch the stores up."""
        self._needs_rewind = False
        assignment = [TopicPartition(topic, partition) for topic, partition in sorted(self._assigned)]
        if assignment:
            for tp in self._consumer.committed(assignment, timeout=30):
                offset = tp.offset if tp.offset >= 0 else OFFSET_BEGINNING
                self._consumer.seek(TopicPartition(tp.topic, tp.partition, offset))
        restored = self._state.resync()
        self._log.info("rewound", partitions=len(assignment), restored=restored)

    # -- rebalance callbacks (run inside consume()) ------------------------------------------------
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._health.set_ready(False, "restoring")
        started = time.perf_counter()
        restored = self._state.assign({tp.partition for tp in partitions})
        self._assigned |= {(tp.topic, tp.partition) for tp in partitions}
        self._log.info(
            "assigned",
            partitions=[f"{tp.topic}[{tp.partition}]" for tp in partitions],
            restored=restored,
            restore_s=round(time.perf_counter() - started, 3),
        )
        self._health.set_ready(True, "assigned")

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._commit()
        self._release(partitions, "revoked")

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        try:
            self._checkpoint.abort()
        except TransactionError as failure:
            self._recover(failure)
        self._needs_rewind = True
        self._epoch += 1
        self._release(partitions, "lost")

    def _release(self, partitions: list[TopicPartition], why: str) -> None:
        self._assigned -= {(tp.topic, tp.partition) for tp in partitions}
        still_owned = {partition for _, partition in self._assigned}
        self._state.revoke({tp.partition for tp in partitions} - still_owned)
        self._log.info(why, partitions=[f"{tp.topic}[{tp.partition}]" for tp in partitions])
        if not self._assigned:
            self._health.set_ready(False, f"no partitions ({why})")

    # -- errors and metrics -------------------------------------------------------------------------
    def _consumer_error(self, error: KafkaError) -> None:
        if error.code() == KafkaError._PARTITION_EOF:
            return
        if error.fatal():
            raise FatalError(f"consumer: {error}")
        self._log.warning("consumer error", error=str(error), retriable=error.retriable())

    def _observe_lag(self) -> None:
        now = time.monotonic()
        if now - self._lag_at < _LAG_EVERY_S or not self._assigned:
            return
        self._lag_at = now
        try:
            positions = self._consumer.position([TopicPartition(t, p) for t, p in self._assigned])
            for tp in positions:
                _, high = self._consumer.get_watermark_offsets(tp, cached=True)
                if tp.offset >= 0 and high >= 0:
                    gauge = self._metrics.consumer_lag.labels(self._service, tp.topic, str(tp.partition))
                    gauge.set(max(high - tp.offset, 0))
        except KafkaException as exc:
            self._log.warning("lag unavailable", error=str(exc))


_settled = False


def settle_heap() -> None:
    """Move what exists now out of the collector's sight and make young collections rarer.

    Called when a processing loop starts (this runner's, the sink runner's); only the process's
    first loop freezes, so a second loop in the same process (the customer merger's two roles, the
    tests' in-thread runtimes) never freezes the first one's live objects, whose cycles could then
    never be collected."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
    young, older, oldest = gc.get_threshold()
    if 0 < young < _GC_YOUNG_THRESHOLD:  # 0: collection is off; higher: someone chose it
        gc.set_threshold(_GC_YOUNG_THRESHOLD, older, oldest)


def message_record(message: Message) -> Record:
    """A consumed message as the runtime's :class:`bus.processor.Record`."""
    # headers() builds a new list on a message's first call (and caches it on the message): the
    # record shares that list instead of copying it; the runtime never changes either.
    headers: Any = message.headers()
    return Record(
        message.topic() or "",
        message.partition() or 0,
        message.offset() or 0,
        message.key(),
        message.value(),
        headers or [],
        message.timestamp()[1],
    )
