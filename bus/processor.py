"""One record through decode -> handle (with retries) -> encode, with no Kafka in sight.

The processing loop (:mod:`bus.runner`) and the in-memory driver (:mod:`bus.testing`) both feed
records through :class:`RecordProcessor`; what comes back is everything to write for that record
(outputs, or a dead letter) and the state changes, which the caller records atomically with the
input offset.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from confluent_kafka import KafkaError
from opentelemetry import trace

from bus.dlq import build_dead_letter_headers
from bus.errors import DeadLetterError, Outcome, OutputRejectedError, Source, outcome_of
from bus.observability.logging import get_logger, writes
from bus.observability.metrics import Metrics
from bus.observability.tracing import Headers, Tracing
from bus.retry import RetryPolicy
from bus.serde import BoundCodec
from bus.service import Emit, Event, Outgoing, Service, StateDelete, StatePut, StateView

__all__ = ["OutRecord", "Processed", "Record", "RecordProcessor", "StateLookup"]

StateLookup = Callable[[str, int], StateView]


# Frozen msgspec Structs like the values of bus.service (see there): built several times per record.
class Record(msgspec.Struct, frozen=True):
    """A consumed record as bytes."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = []
    timestamp_ms: int = 0


class OutRecord(msgspec.Struct, frozen=True):
    """A record to produce."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers


class Processed(msgspec.Struct, frozen=True):
    outputs: list[OutRecord]
    state: list[StatePut | StateDelete]
    dead_letter: OutRecord | None = None


_STATE_CHANGES = (StatePut, StateDelete)  # a tuple: isinstance on a union type is slower


def _dropped(*_args: Any, **_kwargs: Any) -> None:
    return None


class _RecordLogger:
    """``ctx.log``: binds the record's context (and looks up the trace id) only for a message the
    configured level writes; a handler's per-record ``info`` at WARNING costs ~0.3 µs, not ~4."""

    __slots__ = ("_context",)

    def __init__(self, context: _Context) -> None:
        self._context = context

    def __getattr__(self, method: str) -> Any:
        if not writes(method):
            return _dropped
        return getattr(self._context.bound_logger(), method)


class _Context:
    __slots__ = ("_event_id", "_lookup", "_partition", "_record", "_stores", "service")

    def __init__(
        self, service: str, stores: frozenset[str], lookup: StateLookup, record: Record, event_id: str | None
    ) -> None:
        self.service = service
        self._stores = stores
        self._lookup = lookup
        self._partition = record.partition
        self._record = record
        self._event_id = event_id

    @property
    def log(self) -> Any:
        return _RecordLogger(self)

    def bound_logger(self) -> Any:
        record = self._record
        return get_logger(
            service=self.service,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            event_id=self._event_id,
            trace_id=Tracing.current_trace_id(),
        )

    def state(self, store: str) -> StateView:
        if store not in self._stores:
            raise KeyError(f"service {self.service} declares no store {store!r}")
        return self._lookup(store, self._partition)


class RecordProcessor:
    def __init__(
        self,
        service: Service,
        decoders: Mapping[str, BoundCodec],
        encoders: Mapping[str, BoundCodec],
        state: StateLookup,
        retry: RetryPolicy,
        tracing: Tracing,
        metrics: Metrics,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._service = service
        self._decoders = decoders
        self._encoders = encoders
        self._state = state
        self._stores = frozenset(store.name for store in service.stores)
        self._readable = self._stores | {table.store for table in service.globals}
        self._tombstones = frozenset(spec.topic for spec in service.inputs if spec.tombstones)
        self._retry = retry
        self._tracing = tracing
        self._metrics = metrics
        self._sleep = sleep
        self._log = get_logger(service=service.name)
        for own in service.metrics:
            for collector in own.collectors():
                metrics.registry.register(collector)
        self._rejected: dict[Source, KafkaError] = {}
        self._tallies: dict[str, _InputTallies] = {}  # per-record metrics, by input topic
        self._out_tallies: dict[str, Any] = {}  # records_out, by output topic

    def reject(self, rejected: Mapping[Source, KafkaError]) -> None:
        """The broker refused outputs of these inputs for good: when they come again (after the
        rewind), dead-letter them (stage ``produce``) instead of handling them."""
        self._rejected.update(rejected)

    def process(self, record: Record) -> Processed:
        tallies = self._tallies.get(record.topic) or self._topic_tallies(record.topic)
        tallies.records_in.inc()
        # The event's headers, built once: the span also reads the trace context from them.
        headers = dict(record.headers)
        tracing = self._tracing
        # With tracing off the record's traceparent is only forwarded (outputs, logs' trace id).
        forwarding = tracing.start_forwarding(record.headers, headers)
        if forwarding is not None:
            try:
                return self._process(record, tallies, headers)
            finally:
                tracing.end_forwarding(forwarding)
        # Otherwise a span (non-recording with tracing off) carries the parent's context, so logs
        # get its trace id and outputs forward its traceparent/tracestate.
        with tracing.process_span(
            record.topic, record.partition, record.offset, record.key, record.headers, headers
        ):
            return self._process(record, tallies, headers)

    def _topic_tallies(self, topic: str) -> _InputTallies:
        tallies = _InputTallies(self._metrics, topic)
        self._tallies[topic] = tallies
        return tallies

    def _out_tally(self, topic: str) -> Any:
        tally = self._out_tallies[topic] = self._metrics.tally("records_out", topic)
        return tally

    def _process(self, record: Record, tallies: _InputTallies, headers: dict[str, bytes]) -> Processed:
        first_failure: datetime | None = None
        if self._rejected:
            refused = self._rejected.pop((record.topic, record.partition, record.offset), None)
            if refused is not None:
                error = OutputRejectedError(
                    f"the broker refused an output: {refused.name()}: {refused.str()}"
                )
                return self._dead_letter(record, error, "produce", 1, first_failure)
        try:
            if record.value is None:
                if record.topic not in self._tombstones:
                    raise DeadLetterError("tombstone on an input topic")
                value = None  # the input opted in: the handler sees the delete
            else:
                value = self._decoders[record.topic].decode(record.value, record.topic)
        except Exception as exc:
            if outcome_of(exc) is Outcome.CRASH:
                raise
            return self._dead_letter(record, exc, "deserialize", 1, first_failure)
        # By position (value, key, topic, partition, offset, timestamp_ms, headers): no keywords
        # to match per record.
        event = Event(
            value, record.key, record.topic, record.partition, record.offset, record.timestamp_ms, headers
        )
        event_id = None
        if value is not None:
            service = self._service
            try:
                occurred = service.occurred_at(value)
            except Exception:  # a broken accessor must not fail the record; it only loses the metric
                self._log.warning("occurred_at accessor failed", topic=record.topic, exc_info=True)
            else:
                if occurred is not None:
                    lag = (datetime.now(UTC) - occurred).total_seconds()
                    (tallies.end_to_end or tallies.end_to_end_seconds()).observe(0.0 if lag < 0.0 else lag)
            event_id = service.event_id(value)
            # Business keys (order id, SKU, golden id) make the trace searchable in Jaeger. With
            # tracing off every span is non-recording: not even looked up.
            if self._tracing.enabled:
                span = trace.get_current_span()
                if span.is_recording():
                    span.set_attributes(self._service.span_attributes(value))
        ctx = _Context(self._service.name, self._readable, self._state, record, event_id)
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                outgoing = self._service.handler(event, ctx)
                break
            except BaseException as exc:
                outcome = outcome_of(exc)
                if attempt == 1:
                    first_failure = datetime.now(UTC)
                if outcome is Outcome.CRASH:
                    raise
                if outcome is Outcome.RETRY and attempt < self._retry.attempts:
                    self._metrics.retries.labels(self._service.name, record.topic).inc()
                    delay = self._retry.backoff(attempt)
                    self._log.warning(
                        "retrying",
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                        event_id=event_id,
                        attempt=attempt,
                        delay_s=round(delay, 3),
                        error=repr(exc),
                    )
                    self._sleep(delay)
                    continue
                return self._dead_letter(record, exc, "handle", attempt, first_failure, event_id)
            finally:
                (tallies.handler or tallies.handler_seconds()).observe(time.perf_counter() - started)
        try:
            processed = self._encode(outgoing)
        except Exception as exc:
            if outcome_of(exc) is Outcome.CRASH:
                raise
            return self._dead_letter(record, exc, "serialize", attempt, first_failure, event_id)
        if self._service.metrics:
            self._observe_service_metrics(event, outgoing)
        return processed

    def _observe_service_metrics(self, event: Event[Any], outgoing: Sequence[Outgoing]) -> None:
        for own in self._service.metrics:
            try:
                own.observe(event, outgoing)
            except Exception:  # a broken metric must not fail the record; it only loses the sample
                self._metrics.service_metric_errors.labels(self._service.name).inc()
                self._log.warning("service metrics failed", topic=event.topic, exc_info=True)

    def _encode(self, outgoing: Sequence[Outgoing]) -> Processed:
        outputs: list[OutRecord] = []
        state: list[StatePut | StateDelete] = []
        tracing = self._tracing
        encoders, out_tallies, stores = self._encoders, self._out_tallies, self._stores
        for item in outgoing:
            if isinstance(item, Emit):
                topic = item.topic
                encoder = encoders.get(topic)
                if encoder is None:
                    raise DeadLetterError(f"emit to undeclared output topic {topic!r}")
                # A None value is a tombstone: compacted topics delete the key (erasure, retraction).
                value = None if item.value is None else encoder.encode(item.value, topic)
                key = item.key.encode() if isinstance(item.key, str) else item.key
                headers: Headers = list(item.headers.items()) if item.headers else []
                if tracing.enabled:
                    with tracing.send_span(topic, headers):
                        outputs.append(OutRecord(topic, key, value, headers))
                else:  # no span to open: only the incoming trace context to forward (send_span's)
                    tracing.forward(headers)
                    outputs.append(OutRecord(topic, key, value, headers))
                (out_tallies.get(topic) or self._out_tally(topic)).inc()
            elif isinstance(item, _STATE_CHANGES):
                if item.store not in stores:
                    kind = "read-only global table" if item.store in self._readable else "undeclared store"
                    raise DeadLetterError(f"write to {kind} {item.store!r}")
                state.append(item)
            else:
                raise DeadLetterError(
                    f"handler returned {type(item).__name__}, not Emit/StatePut/StateDelete"
                )
        return Processed(outputs, state)

    def _dead_letter(
        self,
        record: Record,
        error: BaseException,
        stage: str,
        attempt: int,
        first_failure: datetime | None,
        event_id: str | None = None,
    ) -> Processed:
        self._metrics.dead_letters.labels(self._service.name, record.topic, stage).inc()
        self._log.warning(
            "dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            event_id=event_id,
            stage=stage,
            attempt=attempt,
            error=repr(error),
            trace_id=Tracing.current_trace_id(),
        )
        headers = build_dead_letter_headers(
            record.headers,
            error=error,
            stage=stage,
            service=self._service.name,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            attempt=attempt,
            first_failure_at=first_failure or datetime.now(UTC),
        )
        letter = OutRecord(self._service.dlq_topic, record.key, record.value, headers)
        return Processed([letter], [], dead_letter=letter)


class _InputTallies:
    """The per-record metrics of one input topic, behind one dict lookup per record. The latency
    tallies are made on first use: a series exists once it has a sample, as before."""

    __slots__ = ("_metrics", "_topic", "end_to_end", "handler", "records_in")

    def __init__(self, metrics: Metrics, topic: str) -> None:
        self._metrics = metrics
        self._topic = topic
        self.records_in: Any = metrics.tally("records_in", topic)
        # None until the first sample; the hot path reads ``handler or handler_seconds()``, one
        # attribute read instead of a method call per record.
        self.handler: Any = None
        self.end_to_end: Any = None

    def handler_seconds(self) -> Any:
        if self.handler is None:
            self.handler = self._metrics.tally("handler_seconds", self._topic)
        return self.handler

    def end_to_end_seconds(self) -> Any:
        if self.end_to_end is None:
            self.end_to_end = self._metrics.tally("end_to_end_seconds", self._topic)
        return self.end_to_end
