"""The process's one producer: transactional (exactly-once) or idempotent (at-least-once).

Every transactional call goes through :meth:`TxnProducer._call`, which classifies librdkafka's
errors (:func:`bus.errors.txn_action`): retriable errors are retried a bounded number of times
(a timeout that persists becomes "outcome unknown" and the producer is re-created), everything
else surfaces as :class:`bus.errors.TransactionError` with the action the loop must take.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

from confluent_kafka import KafkaError, KafkaException, Message, Producer, TopicPartition

from bus.errors import Source, TransactionError, TxnAction, kafka_error_of, rejects_record, txn_action
from bus.observability.logging import get_logger
from bus.processor import OutRecord

__all__ = ["TxnProducer"]

R = TypeVar("R")
_RETRIES = 3


class TxnProducer:
    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        transactional: bool,
        tracked_topics: frozenset[str],
        timeout_s: float,
    ) -> None:
        self._config = dict(config)
        self.transactional = transactional
        self._tracked = tracked_topics
        self._timeout_s = timeout_s
        self._producer: Producer | None = None
        self.in_transaction = False
        self.delivery_errors: list[KafkaError] = []
        self.rejected: dict[Source, KafkaError] = {}  # inputs whose outputs the broker refused
        self.delivered_offsets: dict[tuple[str, int], int] = {}
        self._log = get_logger(component="producer", transactional_id=self._config.get("transactional.id"))

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Create the client; with transactions, ``init_transactions`` fences any previous instance
        of this transactional id and completes or aborts its pending transaction."""
        self._producer = Producer({**self._config, "on_delivery": self._on_delivery})
        self.in_transaction = False
        if self.transactional:
            self._call("init_transactions", lambda p: p.init_transactions(self._timeout_s))

    def recreate(self) -> None:
        """Drop a producer in a fatal or unknown state and start a fresh one with the same id."""
        self._log.warning("re-creating producer")
        old, self._producer = self._producer, None
        if old is not None:
            old.purge(in_queue=True, in_flight=True)
            old.flush(0)
        self.delivery_errors.clear()
        self.rejected.clear()
        self.start()

    def close(self, timeout_s: float = 10.0) -> None:
        if self._producer is not None:
            self._producer.flush(timeout_s)
            self._producer = None

    @property
    def client(self) -> Producer:
        if self._producer is None:
            raise RuntimeError("producer not started")
        return self._producer

    # -- transaction steps ----------------------------------------------------------------------
    def begin(self) -> None:
        if self.transactional and not self.in_transaction:
            self._call("begin_transaction", lambda p: p.begin_transaction())
            self.in_transaction = True

    def produce(self, record: OutRecord, partition: int | None = None, source: Source | None = None) -> None:
        """Produce ``record``; ``source`` is the input it came from, so that a record the broker
        refuses for good can be traced back to that input (:attr:`rejected`)."""
        on_delivery = None if source is None else partial(self._on_source_delivery, source)
        self._produce((record,), -1 if partition is None else partition, on_delivery, source)

    def produce_outputs(self, records: Sequence[OutRecord], source: Source) -> None:
        """Produce the outputs of one input (``source``): :meth:`produce` for each, with one
        delivery callback for all of them instead of one per record."""
        self._produce(records, -1, partial(self._on_source_delivery, source), source)

    def produce_changelog(self, topic: str, partition: int, changes: Mapping[bytes, bytes | None]) -> None:
        """Produce ``changes`` (key -> value, None a tombstone) to ``topic``'s ``partition``, no
        headers: :meth:`produce` of each as an :class:`OutRecord`, without building one."""
        producer = self.client
        produce = producer.produce
        for key, value in changes.items():
            while True:
                try:
                    # (topic, value, key, partition): the config's on_delivery reports the offset.
                    produce(topic, value, key, partition)
                    break
                except BufferError:
                    producer.poll(0.05)  # the local queue is full: serve deliveries, then try again
                except KafkaException as exc:
                    raise self._refused(exc, None) from exc

    def _produce(
        self, records: Sequence[OutRecord], partition: int, on_delivery: Any, source: Source | None
    ) -> None:
        producer = self.client
        produce = producer.produce
        for record in records:
            # Arguments by position: confluent-kafka parses keywords on every call (a produce with
            # a callback 0.64 µs by position, 0.86 by keyword, 0.98 through a kwargs dict). By
            # position they are (topic, value, key, partition, callback, on_delivery, timestamp,
            # headers): partition -1 lets the partitioner choose, a None callback means the
            # config's on_delivery, timestamp 0 the current time - the defaults when left out.
            headers: Any = record.headers  # the stub types the list's values as str | bytes | None
            while True:
                try:
                    if headers:  # an empty list still makes librdkafka build a headers object (~0.35 µs)
                        produce(
                            record.topic, record.value, record.key, partition, on_delivery, None, 0, headers
                        )
                    else:
                        produce(record.topic, record.value, record.key, partition, on_delivery)
                    break
                except BufferError:
                    producer.poll(0.05)  # the local queue is full: serve deliveries, then try again
                except KafkaException as exc:
                    raise self._refused(exc, source) from exc

    @staticmethod
    def _refused(exc: KafkaException, source: Source | None) -> TransactionError:
        error = kafka_error_of(exc)
        rejected = {source: error} if source is not None and rejects_record(error) else {}
        action = TxnAction.ABORT if rejected else txn_action(error)
        return TransactionError(action, "produce", error, rejected)

    def poll(self) -> None:
        self.client.poll(0)

    def flush(self) -> None:
        """All produced records delivered, or the transaction must be aborted."""
        remaining = self.client.flush(self._timeout_s)
        if remaining:
            raise TransactionError(
                TxnAction.RECREATE if self.transactional else TxnAction.ABORT, "flush", None
            )
        if self.delivery_errors:
            error = self.delivery_errors[0]
            action = txn_action(error) if self.transactional else TxnAction.ABORT
            if self.rejected and action is not TxnAction.CRASH:
                action = TxnAction.ABORT  # a refused record fails only this transaction
            raise TransactionError(action, "delivery", error, dict(self.rejected))

    def send_offsets(self, offsets: Sequence[TopicPartition], group_metadata: object) -> None:
        self._call(
            "send_offsets_to_transaction",
            lambda p: p.send_offsets_to_transaction(list(offsets), group_metadata, self._timeout_s),
        )

    def commit(self) -> None:
        self._call("commit_transaction", lambda p: p.commit_transaction(self._timeout_s))
        self._end()

    def abort(self) -> None:
        if self.transactional and self.in_transaction:
            self._call("abort_transaction", lambda p: p.abort_transaction(self._timeout_s))
        self._end()

    def _end(self) -> None:
        self.in_transaction = False
        self.delivery_errors.clear()
        self.rejected.clear()

    # -- internals ------------------------------------------------------------------------------
    def _call(self, step: str, fn: Callable[[Producer], R]) -> R:
        for attempt in range(1, _RETRIES + 1):
            try:
                return fn(self.client)
            except KafkaException as exc:
                error = kafka_error_of(exc)
                action = txn_action(error)
                if action is TxnAction.RETRY and attempt < _RETRIES:
                    self._log.warning(
                        "retrying transactional call", step=step, attempt=attempt, error=str(error)
                    )
                    continue
                if action is TxnAction.RETRY:
                    action = TxnAction.RECREATE  # still failing: treat the outcome as unknown
                raise TransactionError(action, step, error) from exc
        raise AssertionError("unreachable")

    def _on_source_delivery(self, source: Source, error: KafkaError | None, message: Message) -> None:
        if error is None:
            # A delivered record only matters on a tracked (changelog) topic, which an output is
            # not: one Python call per delivered output instead of two.
            if self._tracked and message.topic() in self._tracked:
                self._on_delivery(None, message)
            return
        if rejects_record(error):
            self.rejected.setdefault(source, error)
        self._on_delivery(error, message)

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self.delivery_errors.append(error)
            return
        topic = message.topic()
        if topic in self._tracked:
            partition, offset = message.partition(), message.offset()
            if topic is not None and partition is not None and offset is not None:
                self.delivered_offsets[(topic, partition)] = offset
