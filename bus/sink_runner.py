"""The sink loop: poll, dispatch to workers, pause/seek/resume on RetryAt, dead-letter, commit.

Single-threaded except for ``Sink.deliver``, which runs in a bounded thread pool. Per partition the
loop keeps the records polled but not yet dispatched (in order), at most one record in flight, and
the next offset to commit (one past the last completed record; completion is in order because a
partition has one record in flight). ``consume`` keeps running while partitions wait, so
``max.poll.interval.ms`` is never at risk.

A finished delivery wakes the loop (the future's done callback sets an event): while records are in
flight the loop polls the consumer without blocking and then sleeps on that event, not in
``consume``, which nothing but a message can interrupt. So a partition's next record is dispatched
as soon as the previous one is delivered, not up to a poll timeout later; a message for an idle
partition waits at most ``busy_wait_s`` meanwhile.

librdkafka semantics relied on: ``pause`` stops the fetcher and purges the partition's pre-fetched
messages, and ``resume`` fetches from the last message handed to the application + 1 unless the
partition was ``seek``-ed while paused (pause first, then seek). A partition whose local buffer
grows past ``high_water`` is paused the same way (flow control) and resumed when it drains.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from opentelemetry.trace import Span, Status, StatusCode

from bus.dlq import build_dead_letter_headers
from bus.errors import DeadLetterError, FatalError, Outcome, outcome_of
from bus.observability.health import Health
from bus.observability.logging import get_logger
from bus.observability.redaction import redact_text
from bus.observability.tracing import Tracing
from bus.processor import Record
from bus.retry import RetryPolicy
from bus.runner import message_record, settle_heap
from bus.sink import Reject, RetryAt, SinkOutcome, SinkService
from bus.sink_metrics import SinkMetrics

__all__ = ["SinkRunner"]

TP = tuple[str, int]
_MAX_REASON = 2048  # characters of a reject reason kept in its span's status


@dataclass
class _Partition:
    buffer: deque[Record] = field(default_factory=deque)
    in_flight: Future[SinkOutcome] | None = None
    record: Record | None = None  # the one in flight
    lane: str | None = None
    next_offset: int | None = None  # to commit
    committed: int | None = None
    resume_at: float | None = None  # waiting for a RetryAt deadline
    flow_paused: bool = False
    counted: int | None = None  # offset last counted in esb_records_in (retries count once)
    attempts: int = 0  # failed attempts of the head record (exceptions only)
    first_failure: datetime | None = None
    error: BaseException | None = None  # what made the head record fail, for its dead letter


class SinkRunner:
    def __init__(
        self,
        service: SinkService,
        consumer: Consumer,
        producer: Producer,
        metrics: SinkMetrics,
        health: Health,
        retry: RetryPolicy,
        commit_interval_s: float,
        high_water: int = 1000,
        clock: Callable[[], float] = time.monotonic,
        idle_poll_s: float = 0.05,
        busy_wait_s: float = 0.005,
        tracing: Tracing | None = None,
    ) -> None:
        self._service = service
        self._tracing = tracing or Tracing(None, group=service.name)
        self._sink = service.sink
        self._consumer = consumer
        self._producer = producer
        self._metrics = metrics
        self._health = health
        self._retry = retry
        self._commit_interval_s = commit_interval_s
        self._high_water = high_water
        self._clock = clock
        self._idle_poll_s = idle_poll_s  # consume timeout with nothing in flight
        self._busy_wait_s = busy_wait_s  # longest sleep on _wake with deliveries in flight
        self._wake = threading.Event()  # set when a delivery finishes
        self._pool = ThreadPoolExecutor(service.workers, thread_name_prefix=f"sink-{service.name}")
        self._parts: dict[TP, _Partition] = {}
        self._lanes: dict[str, int] = {}  # records in flight per lane
        self._blocked: dict[str, float] = {}  # lane -> deadline of an account-wide RetryAt
        self._committed_at = clock()
        self._log = get_logger(service=service.name, component="sink")
        self.delivered = 0

    # -- loop --------------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        # Same per-record allocation pattern as the processing loop (a record, a future, the
        # sink's request objects): without it ~400 young collections per 100,000 records, ≈ 2 µs
        # per record in the collector with a trivial sink (benchmarks/README.md); with it ≈ 0.1.
        settle_heap()
        self._consumer.subscribe(list(self._service.inputs), **self.rebalance_callbacks())
        try:
            while not stop.is_set():
                self.step()
            self._drain(list(self._parts))
            self._commit(force=True)
        finally:
            self._health.set_ready(False, "stopping")
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._consumer.close()
            self._producer.flush(10)
            self._tracing.shutdown()  # exports the spans still batched
            self._log.info("stopped", delivered=self.delivered)

    def rebalance_callbacks(self) -> dict[str, Callable[[Consumer, list[TopicPartition]], None]]:
        return {"on_assign": self._on_assign, "on_revoke": self._on_revoke, "on_lost": self._on_lost}

    def step(self) -> None:
        """One turn of the loop: poll, complete, resume, dispatch, commit."""
        self._health.beat()
        # Cleared before the done() checks below, so a delivery finishing after them still wakes us.
        self._wake.clear()
        in_flight = [part.in_flight for part in self._parts.values() if part.in_flight is not None]
        messages = self._consumer.consume(num_messages=500, timeout=0 if in_flight else self._idle_poll_s)
        # One that finished before the clear() set the event too early: done() already tells.
        if in_flight and not messages and not any(future.done() for future in in_flight):
            self._wake.wait(self._busy_wait_s)
        for message in messages:
            error = message.error()
            if error is not None:
                self._consumer_error(error)
                continue
            record = message_record(message)
            part = self._parts.get((record.topic, record.partition))
            if part is not None and part.resume_at is None:
                part.buffer.append(record)
        for tp, part in list(self._parts.items()):
            if part.in_flight is not None and part.in_flight.done():
                self._complete(tp, part)
        self._resume_due()
        self._flow_control()
        self._dispatch()
        self._commit()
        self._metrics.paused.set(sum(1 for p in self._parts.values() if p.resume_at is not None))

    # -- dispatch and completion -------------------------------------------------------------------
    def _dispatch(self) -> None:
        busy = sum(1 for part in self._parts.values() if part.in_flight is not None)
        for part in self._parts.values():
            if busy >= self._service.workers:
                return
            if part.in_flight is not None or part.resume_at is not None or not part.buffer:
                continue
            record = part.buffer[0]
            lane = self._sink.key(record)
            blocked = self._blocked.get(lane)
            if blocked is not None and blocked > self._clock():
                self._wait(part_tp(record), part, record.offset, blocked)  # the whole lane waits
                continue
            if self._lanes.get(lane, 0) >= self._service.max_in_flight_per_key:
                continue
            part.buffer.popleft()
            part.record, part.lane = record, lane
            if part.counted != record.offset:
                part.counted = record.offset
                self._metrics.runtime.child("records_in", record.topic).inc()
            part.in_flight = self._pool.submit(self._deliver, record)
            part.in_flight.add_done_callback(self._wake_up)
            self._lanes[lane] = self._lanes.get(lane, 0) + 1
            self._metrics.in_flight.labels(self._service.name, lane).inc()
            busy += 1

    def _wake_up(self, _future: Future[SinkOutcome]) -> None:
        self._wake.set()

    def _deliver(self, record: Record) -> SinkOutcome:
        """``Sink.deliver`` in a worker thread, timed like a handler (``esb_handler_seconds``), in
        the record's ``process`` span: parented on its traceparent, so what the sink calls (the
        target's HTTP request) joins the record's trace. An exception marks the span as failed."""
        started = time.perf_counter()
        try:
            with self._tracing.process_span(
                record.topic, record.partition, record.offset, record.key, record.headers
            ) as span:
                outcome = self._sink.deliver(record)
                if span.is_recording():
                    _annotate(span, outcome)
                return outcome
        finally:
            self._metrics.runtime.child("handler_seconds", record.topic).observe(
                time.perf_counter() - started
            )

    def _complete(self, tp: TP, part: _Partition, *, revoking: bool = False) -> None:
        future, record, lane = part.in_flight, part.record, part.lane
        assert future is not None
        assert record is not None
        assert lane is not None
        part.in_flight, part.record, part.lane = None, None, None
        self._lanes[lane] -= 1
        self._metrics.in_flight.labels(self._service.name, lane).dec()
        outcome = self._outcome(future, part)
        self._metrics.outcomes.labels(self._service.name, type(outcome).__name__.lower()).inc()
        if isinstance(outcome, RetryAt):
            if not revoking:
                self._wait(tp, part, record.offset, outcome.deadline)
                if outcome.account_wide:
                    self._blocked[lane] = max(outcome.deadline, self._blocked.get(lane, 0.0))
            return
        if isinstance(outcome, Reject):
            self._dead_letter(record, outcome.reason, part)
        else:
            self.delivered += 1
            self._metrics.runtime.child("records_out", record.topic).inc()
        part.attempts, part.first_failure, part.error = 0, None, None
        part.next_offset = record.offset + 1

    def _outcome(self, future: Future[SinkOutcome], part: _Partition) -> SinkOutcome:
        exc = future.exception()
        if exc is None:
            return future.result()
        if part.first_failure is None:
            part.first_failure = datetime.now(UTC)
        part.attempts += 1
        part.error = exc
        outcome = outcome_of(exc)
        if outcome is Outcome.CRASH:
            raise FatalError(f"sink {self._service.name}: {exc!r}") from exc
        if outcome is Outcome.RETRY and part.attempts < self._retry.attempts:
            return RetryAt(self._clock() + self._retry.backoff(part.attempts))
        return Reject(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")

    # -- waiting ------------------------------------------------------------------------------------
    def _wait(self, tp: TP, part: _Partition, offset: int, deadline: float) -> None:
        """Pause ``tp``, rewind it to ``offset`` and resume it at ``deadline``."""
        tpo = TopicPartition(tp[0], tp[1], offset)
        if part.resume_at is None and not part.flow_paused:
            self._consumer.pause([TopicPartition(tp[0], tp[1])])
        self._consumer.seek(tpo)
        part.buffer.clear()
        part.flow_paused = False
        part.resume_at = max(deadline, part.resume_at or deadline)

    def _resume_due(self) -> None:
        now = self._clock()
        due = [tp for tp, part in self._parts.items() if part.resume_at is not None and part.resume_at <= now]
        for tp in due:
            self._parts[tp].resume_at = None
        if due:
            self._consumer.resume([TopicPartition(t, p) for t, p in due])

    def _flow_control(self) -> None:
        pause, resume = [], []
        for (topic, partition), part in self._parts.items():
            if part.resume_at is not None:
                continue
            if not part.flow_paused and len(part.buffer) >= self._high_water:
                part.flow_paused = True
                pause.append(TopicPartition(topic, partition))
            elif part.flow_paused and len(part.buffer) < self._high_water // 2:
                part.flow_paused = False
                resume.append(TopicPartition(topic, partition))
        if pause:
            self._consumer.pause(pause)
        if resume:
            self._consumer.resume(resume)

    # -- dead letters and commits ---------------------------------------------------------------
    def _dead_letter(self, record: Record, reason: str, part: _Partition) -> None:
        """Produced and acknowledged before the offset moves past the record."""
        headers = build_dead_letter_headers(
            record.headers,
            error=part.error or DeadLetterError(reason),
            stage="deliver",
            service=self._service.name,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            attempt=max(part.attempts, 1),
            first_failure_at=part.first_failure or datetime.now(UTC),
        )
        errors: list[KafkaError] = []

        def delivered(error: KafkaError | None, _message: object) -> None:
            if error is not None:
                errors.append(error)

        out: list[tuple[str, str | bytes | None]] = list(headers)
        self._producer.produce(
            self._service.dlq_topic, record.value, key=record.key, headers=out, on_delivery=delivered
        )
        if self._producer.flush(30) or errors:
            raise FatalError(
                f"cannot dead-letter {record.topic}[{record.partition}]@{record.offset}: {errors}"
            )
        self._metrics.runtime.dead_letters.labels(self._service.name, record.topic, "deliver").inc()
        self._log.warning(
            "dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            stage="deliver",
            reason=reason,
        )

    def _commit(self, force: bool = False, only: list[TP] | None = None) -> None:
        if not force and self._clock() - self._committed_at < self._commit_interval_s:
            return
        self._committed_at = self._clock()
        offsets = [
            TopicPartition(tp[0], tp[1], part.next_offset)
            for tp, part in self._parts.items()
            if (only is None or tp in only)
            and part.next_offset is not None
            and part.next_offset != part.committed
        ]
        if not offsets:
            return
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            self._log.warning("commit failed, retried with the next checkpoint", error=str(exc))
            return
        for tp in offsets:
            self._parts[(tp.topic, tp.partition)].committed = tp.offset

    def _drain(self, tps: list[TP]) -> None:
        """Wait for the in-flight records of ``tps`` and record their outcomes (revoke, shutdown)."""
        for tp in tps:
            part = self._parts.get(tp)
            if part is not None and part.in_flight is not None:
                part.in_flight.exception()  # waits
                self._complete(tp, part, revoking=True)

    # -- rebalance callbacks (run inside consume()) -------------------------------------------------
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self._parts.setdefault((tp.topic, tp.partition), _Partition())
        self._log.info("assigned", partitions=[f"{tp.topic}[{tp.partition}]" for tp in partitions])
        self._health.set_ready(True, "assigned")

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        tps = [(tp.topic, tp.partition) for tp in partitions]
        self._drain(tps)
        self._commit(force=True, only=tps)
        self._release(tps, "revoked")

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._release([(tp.topic, tp.partition) for tp in partitions], "lost")

    def _release(self, tps: list[TP], why: str) -> None:
        for tp in tps:
            part = self._parts.pop(tp, None)
            if part is not None and part.lane is not None:
                self._lanes[part.lane] -= 1  # a lost partition's worker result is dropped
                self._metrics.in_flight.labels(self._service.name, part.lane).dec()
        self._log.info(why, partitions=[f"{t}[{p}]" for t, p in tps])
        if not self._parts:
            self._health.set_ready(False, f"no partitions ({why})")

    def _consumer_error(self, error: KafkaError) -> None:
        if error.code() == KafkaError._PARTITION_EOF:
            return
        if error.fatal():
            raise FatalError(f"consumer: {error}")
        self._log.warning("consumer error", error=str(error), retriable=error.retriable())


def part_tp(record: Record) -> TP:
    return (record.topic, record.partition)


def _annotate(span: Span, outcome: SinkOutcome) -> None:
    """What came of the attempt: ``esb.sink.outcome`` done / retry / reject; a reject is an error."""
    if isinstance(outcome, RetryAt):
        span.set_attribute("esb.sink.outcome", "retry")
        span.set_attribute("esb.sink.account_wide", outcome.account_wide)
    elif isinstance(outcome, Reject):
        span.set_attribute("esb.sink.outcome", "reject")
        # The reason quotes the target's answer: scrubbed like a log line before it leaves the process.
        span.set_status(Status(StatusCode.ERROR, redact_text(outcome.reason[:_MAX_REASON])))
    else:
        span.set_attribute("esb.sink.outcome", "done")
