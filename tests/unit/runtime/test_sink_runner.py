"""The sink loop over a fake consumer: order per partition, pause/seek/resume, lanes, DLQ, commits."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from confluent_kafka import TopicPartition
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from prometheus_client import generate_latest

from bus import runner as processing_runner
from bus.dlq import parse_dead_letter
from bus.errors import RetryableError
from bus.observability.health import Health
from bus.observability.metrics import Metrics
from bus.observability.tracing import Tracing
from bus.processor import Record
from bus.retry import RetryPolicy
from bus.sink import Done, Reject, RetryAt, SinkOutcome, SinkService
from bus.sink_metrics import SinkMetrics
from bus.sink_runner import SinkRunner
from esb.observe.metrics import kpis_from_text

pytestmark = pytest.mark.unit

TOPIC = "egress"


class Message:
    def __init__(self, partition: int, offset: int, lane: str) -> None:
        self._partition, self._offset, self._lane = partition, offset, lane

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return TOPIC

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return b"k"

    def value(self) -> bytes:
        return f"{self._partition}:{self._offset}".encode()

    def headers(self) -> list[tuple[str, bytes]]:
        return [("lane", self._lane.encode())]

    def timestamp(self) -> tuple[int, int]:
        return (1, 0)


class FakeConsumer:
    """librdkafka's pause semantics: a paused partition yields nothing; resume continues from the
    last message handed out + 1, or from where it was sought while paused."""

    def __init__(self, lanes: dict[int, str], per_partition: int) -> None:
        self.log = {p: [Message(p, o, lane) for o in range(per_partition)] for p, lane in lanes.items()}
        self.position = dict.fromkeys(lanes, 0)
        self.paused: set[int] = set()
        self.calls: list[tuple[str, int, int | None]] = []
        self.committed: dict[int, int] = {}
        self.callbacks: dict[str, Callable[..., None]] = {}
        self._assigned = False

    def subscribe(self, topics: Sequence[str], **callbacks: Callable[..., None]) -> None:
        self.callbacks = callbacks

    def consume(self, num_messages: int, timeout: float) -> list[Message]:
        if not self._assigned:
            self._assigned = True
            self.callbacks["on_assign"](self, [TopicPartition(TOPIC, p) for p in self.log])
        batch: list[Message] = []
        for p, messages in self.log.items():
            if p in self.paused:
                continue
            batch += messages[self.position[p] : self.position[p] + 2]
            self.position[p] = min(self.position[p] + 2, len(messages))
        if not batch:
            time.sleep(0.001)  # let the workers run
        return batch

    def pause(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self.paused.add(tp.partition)
            self.calls.append(("pause", tp.partition, None))

    def resume(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self.paused.discard(tp.partition)
            self.calls.append(("resume", tp.partition, None))

    def seek(self, tp: TopicPartition) -> None:
        self.position[tp.partition] = tp.offset
        self.calls.append(("seek", tp.partition, tp.offset))

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        assert asynchronous is False
        for tp in offsets:
            self.committed[tp.partition] = tp.offset

    def close(self) -> None:
        return None


class FakeProducer:
    def __init__(self) -> None:
        self.records: list[tuple[str, bytes | None, bytes | None, list[tuple[str, Any]]]] = []
        self._pending: list[Callable[..., None]] = []

    def produce(
        self, topic: str, value: bytes | None, key: bytes | None, headers: Any, on_delivery: Any
    ) -> None:
        self.records.append((topic, key, value, list(headers)))
        self._pending.append(on_delivery)

    def flush(self, timeout: float) -> int:
        for callback in self._pending:
            callback(None, None)
        self._pending.clear()
        return 0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ScriptedSink:
    """Lane from the ``lane`` header; ``script[(partition, offset)]`` answers (in order), else Done."""

    def __init__(self, script: dict[tuple[int, int], list[Callable[[], SinkOutcome]]]) -> None:
        self.script = script
        self.calls: list[tuple[int, int]] = []
        self._lock = threading.Lock()

    def key(self, record: Record) -> str:
        return dict(record.headers)["lane"].decode()

    def deliver(self, record: Record) -> SinkOutcome:
        with self._lock:
            self.calls.append((record.partition, record.offset))
            answers = self.script.get((record.partition, record.offset))
            answer = answers.pop(0) if answers else None
        return answer() if answer is not None else Done()


def _runner(
    sink: ScriptedSink,
    consumer: FakeConsumer,
    clock: Clock,
    per_lane: int = 4,
    metrics: Metrics | None = None,
    tracing: Tracing | None = None,
) -> tuple[SinkRunner, FakeProducer]:
    producer = FakeProducer()
    service = SinkService("delivery", [TOPIC], sink, max_in_flight_per_key=per_lane, workers=4)
    runner = SinkRunner(
        service,
        consumer,  # type: ignore[arg-type]
        producer,  # type: ignore[arg-type]
        SinkMetrics(metrics or Metrics("delivery")),
        Health(60),
        RetryPolicy(attempts=3, initial_backoff_s=0, max_backoff_s=0),
        commit_interval_s=0,
        clock=clock,
        tracing=tracing,
    )
    consumer.subscribe([TOPIC], **runner.rebalance_callbacks())
    return runner, producer


def _steps(runner: SinkRunner, until: Callable[[], bool]) -> None:
    for _ in range(20_000):  # a bound on loop iterations, not on time
        runner.step()
        if until():
            return
    raise AssertionError("the condition never held")


def _of(sink: ScriptedSink, partition: int) -> list[int]:
    return [o for p, o in sink.calls if p == partition]


def test_each_partition_is_delivered_in_order_and_committed_to_its_end() -> None:
    sink, consumer, clock = ScriptedSink({}), FakeConsumer({0: "A", 1: "B", 2: "A"}, 6), Clock()
    runner, _ = _runner(sink, consumer, clock)
    _steps(runner, lambda: consumer.committed == {0: 6, 1: 6, 2: 6})
    assert all(_of(sink, p) == list(range(6)) for p in (0, 1, 2))


def test_the_loop_settles_the_heap_like_the_processing_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processing_runner, "_settled", False)  # as in a fresh process
    sink, consumer, clock = ScriptedSink({}), FakeConsumer({0: "A"}, 1), Clock()
    runner, _ = _runner(sink, consumer, clock)
    threshold = gc.get_threshold()
    stop = threading.Event()
    stop.set()  # no turn of the loop: only what run() does around it
    try:
        gc.set_threshold(700, 10, 10)  # CPython's defaults
        runner.run(stop)
        assert gc.get_threshold() == (processing_runner._GC_YOUNG_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_retry_at_pauses_only_its_partition_and_resumes_at_the_deadline_from_the_same_record() -> None:
    retry = [lambda: RetryAt(clock.now + 30)]
    sink, consumer, clock = ScriptedSink({(0, 1): retry}), FakeConsumer({0: "A", 1: "B"}, 5), Clock()
    runner, _ = _runner(sink, consumer, clock)

    _steps(runner, lambda: consumer.committed.get(1) == 5 and 0 in consumer.paused)
    before = list(_of(sink, 0))
    for _ in range(50):
        runner.step()  # time does not move: partition 0 stays put
    assert _of(sink, 0) == before == [0, 1]
    assert consumer.committed.get(0) == 1
    assert ("seek", 0, 1) in consumer.calls
    assert all(p == 0 for _, p, _ in consumer.calls)  # partition 1 was never paused

    clock.now += 30
    _steps(runner, lambda: consumer.committed.get(0) == 5)
    assert _of(sink, 0) == [0, 1, 1, 2, 3, 4]


def test_account_wide_retry_holds_every_partition_of_the_lane_but_not_other_lanes() -> None:
    throttled = [lambda: RetryAt(clock.now + 60, account_wide=True)]
    sink, clock = ScriptedSink({(0, 0): throttled}), Clock()
    consumer = FakeConsumer({0: "A", 1: "A", 2: "B"}, 4)
    runner, _ = _runner(sink, consumer, clock, per_lane=1)

    _steps(runner, lambda: consumer.committed.get(2) == 4 and {0, 1} <= consumer.paused)
    lane_a = [call for call in sink.calls if call[0] in (0, 1)]
    assert lane_a == [(0, 0)]  # partition 1 never called the throttled account

    clock.now += 60
    _steps(runner, lambda: consumer.committed == {0: 4, 1: 4, 2: 4})
    assert _of(sink, 0) == [0, 0, 1, 2, 3]
    assert _of(sink, 1) == [0, 1, 2, 3]


def test_a_rejected_record_is_dead_lettered_before_its_offset_moves() -> None:
    sink = ScriptedSink({(0, 2): [lambda: Reject("HTTP 400: invalid entity reference")]})
    consumer, clock = FakeConsumer({0: "A"}, 4), Clock()
    runner, producer = _runner(sink, consumer, clock)
    _steps(runner, lambda: consumer.committed.get(0) == 4)
    ((topic, key, value, headers),) = producer.records
    letter = parse_dead_letter(0, 0, key, value, headers)
    assert (topic, value, letter.stage, letter.source_offset) == ("dlq.delivery", b"0:2", "deliver", 2)
    assert letter.error_message == "HTTP 400: invalid entity reference"
    assert _of(sink, 0) == [0, 1, 2, 3]


def test_exceptions_map_like_a_handlers_retried_then_dead_lettered() -> None:
    def flaky() -> SinkOutcome:
        raise RetryableError("connection reset")

    sink = ScriptedSink({(0, 1): [flaky, flaky, flaky]})
    consumer, clock = FakeConsumer({0: "A"}, 3), Clock()
    runner, producer = _runner(sink, consumer, clock)
    _steps(runner, lambda: consumer.committed.get(0) == 3)
    ((_, key, value, headers),) = producer.records
    letter = parse_dead_letter(0, 0, key, value, headers)
    assert (letter.error_class, letter.attempt) == ("bus.errors.RetryableError", 3)
    assert _of(sink, 0) == [0, 1, 1, 1, 2]


def test_every_attempt_is_a_process_span_that_tells_how_it_ended() -> None:
    def broken() -> SinkOutcome:
        raise RetryableError("connection reset")

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    consumer, clock = FakeConsumer({0: "A"}, 4), Clock()
    sink = ScriptedSink(
        {
            (0, 1): [lambda: RetryAt(clock.now)],
            (0, 2): [lambda: Reject("HTTP 422: card 4111 1111 1111 1111 declined")],
            (0, 3): [broken],
        }
    )
    runner, _ = _runner(sink, consumer, clock, tracing=Tracing(provider, group="delivery"))
    _steps(runner, lambda: consumer.committed.get(0) == 4)

    spans = sorted(exporter.get_finished_spans(), key=lambda s: s.start_time or 0)
    assert {span.name for span in spans} == {f"process {TOPIC}"}
    ended = [
        (
            span.attributes["messaging.kafka.offset"],
            span.attributes.get("esb.sink.outcome"),
            span.status.status_code,
        )
        for span in spans
        if span.attributes is not None
    ]
    assert ended == [
        (0, "done", StatusCode.UNSET),
        (1, "retry", StatusCode.UNSET),
        (1, "done", StatusCode.UNSET),
        (2, "reject", StatusCode.ERROR),
        (3, None, StatusCode.ERROR),  # the exception, recorded on the span
        (3, "done", StatusCode.UNSET),
    ]
    assert spans[3].status.description == "HTTP 422: card [REDACTED] declined"
    assert [event.name for event in spans[4].events] == ["exception"]


def test_revocation_waits_for_in_flight_records_and_commits_them() -> None:
    release = threading.Event()

    def slow() -> SinkOutcome:
        release.wait(30)
        return Done()

    sink = ScriptedSink({(0, 0): [slow]})
    consumer, clock = FakeConsumer({0: "A"}, 1), Clock()
    runner, _ = _runner(sink, consumer, clock)
    _steps(runner, lambda: sink.calls == [(0, 0)])
    release.set()
    consumer.callbacks["on_revoke"](consumer, [TopicPartition(TOPIC, 0)])
    assert consumer.committed == {0: 1}


def test_records_in_out_latency_and_dead_letters_are_counted_like_the_runtimes() -> None:
    script: dict[tuple[int, int], list[Callable[[], SinkOutcome]]] = {
        (0, 1): [lambda: RetryAt(clock.now)],  # delivered on the second attempt
        (0, 2): [lambda: Reject("HTTP 422")],
    }
    sink, consumer, clock, metrics = (
        ScriptedSink(script),
        FakeConsumer({0: "A"}, 4),
        Clock(),
        Metrics("delivery"),
    )
    runner, _ = _runner(sink, consumer, clock, metrics=metrics)
    _steps(runner, lambda: consumer.committed.get(0) == 4)

    def sample(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(name, {"service": "delivery", "topic": TOPIC, **labels})

    assert _of(sink, 0) == [0, 1, 1, 2, 3]
    assert sample("esb_records_in_total") == 4  # a retried record comes in once
    assert sample("esb_records_out_total") == 3  # delivered: 0, 1 and 3
    assert sample("esb_handler_seconds_count") == 5  # every deliver call
    assert sample("esb_dead_letters_total", stage="deliver") == 1
    kpis = kpis_from_text(generate_latest(metrics.registry).decode())  # what `esb status` shows
    assert (kpis.records_in, kpis.records_out, kpis.errors) == (4, 3, 1)


def test_a_finished_delivery_wakes_the_loop_which_then_dispatches_the_partitions_next_record() -> None:
    """While a record is in flight the loop must not block in ``consume`` (only a message ends that
    wait) but on the delivery itself: with a wait bound of an hour, only the wake-up can end the step."""
    release = threading.Event()

    class Blocking(ScriptedSink):
        def deliver(self, record: Record) -> SinkOutcome:
            if record.offset == 0:
                release.wait()
            return super().deliver(record)

    class Recording(FakeConsumer):
        def __init__(self) -> None:
            super().__init__({0: "A"}, 2)
            self.timeouts: list[float] = []

        def consume(self, num_messages: int, timeout: float) -> list[Message]:
            self.timeouts.append(timeout)
            if len(self.timeouts) == 2:
                release.set()  # the delivery finishes while the loop is in (or about to) wait
            return super().consume(num_messages, timeout)

    sink, consumer = Blocking({}), Recording()
    producer = FakeProducer()
    service = SinkService("delivery", [TOPIC], sink, max_in_flight_per_key=4, workers=4)
    runner = SinkRunner(
        service,
        consumer,  # type: ignore[arg-type]
        producer,  # type: ignore[arg-type]
        SinkMetrics(Metrics("delivery")),
        Health(60),
        RetryPolicy(attempts=3, initial_backoff_s=0, max_backoff_s=0),
        commit_interval_s=0,
        clock=Clock(),
        busy_wait_s=3600,
    )
    consumer.subscribe([TOPIC], **runner.rebalance_callbacks())
    runner.step()  # polls both records, dispatches offset 0 (which blocks)
    step = threading.Thread(target=runner.step, daemon=True)
    step.start()
    step.join(60)  # a hang guard, not a latency bound: without the wake-up this step sleeps an hour
    assert not step.is_alive(), "the loop slept through a finished delivery"
    assert consumer.timeouts[1] == 0, "the loop blocked in consume with a delivery in flight"
    assert consumer.committed == {0: 1}  # offset 0 completed and committed in that same step
    _steps(runner, lambda: consumer.committed == {0: 2})
    assert sink.calls == [(0, 0), (0, 1)]
