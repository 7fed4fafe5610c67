"""The loop's recovery: abort-and-rewind, producer re-creation, bounded failures, revoke/lost."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, TopicPartition

from bus.checkpoint import Checkpoint
from bus.config import StateBackend
from bus.dlq import parse_dead_letter
from bus.errors import FatalError, TransactionError, TxnAction
from bus.observability.health import Health
from bus.observability.metrics import Metrics
from bus.observability.tracing import Tracing
from bus.processor import OutRecord, RecordProcessor
from bus.retry import RetryPolicy
from bus.runner import Runner
from bus.serde import BytesCodec
from bus.service import Context, Emit, Event, Input, Outgoing, Output, Service
from bus.state import StateManager

pytestmark = pytest.mark.unit

TOPIC = "in"


class FakeMessage:
    def __init__(self, partition: int, offset: int, value: bytes) -> None:
        self._partition, self._offset, self._value = partition, offset, value

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
        return self._value

    def headers(self) -> None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return (1, 0)


class FakeConsumer:
    """Two partitions of ``per_partition`` records; committed offsets live in the fake producer."""

    def __init__(self, per_partition: int, committed: dict[int, int], stop: threading.Event) -> None:
        self.log = {p: [FakeMessage(p, o, f"{p}:{o}".encode()) for o in range(per_partition)] for p in (0, 1)}
        self.positions = {0: 0, 1: 0}
        self.committed_offsets = committed
        self.seeks: list[tuple[int, int]] = []
        self._callbacks: dict[str, Callable[..., None]] = {}
        self._assigned = False
        self._stop = stop
        self.lose_at: int | None = None

    def subscribe(self, topics: Sequence[str], **callbacks: Callable[..., None]) -> None:
        self._callbacks = callbacks

    def consume(self, num_messages: int, timeout: float) -> list[FakeMessage]:
        if not self._assigned:
            self._assigned = True
            self._callbacks["on_assign"](self, [TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)])
        if self.lose_at is not None and sum(self.positions.values()) >= self.lose_at:
            self.lose_at = None
            self._callbacks["on_lost"](self, [TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)])
            self._callbacks["on_assign"](self, [TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)])
            return []
        batch: list[FakeMessage] = []
        for p in (0, 1):
            batch += self.log[p][self.positions[p] : self.positions[p] + 3]
            self.positions[p] = min(self.positions[p] + 3, len(self.log[p]))
        if not batch and all(self.committed_offsets.get(p) == len(self.log[p]) for p in (0, 1)):
            self._stop.set()
        return batch

    def committed(self, partitions: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        return [
            TopicPartition(tp.topic, tp.partition, self.committed_offsets.get(tp.partition, -1001))
            for tp in partitions
        ]

    def seek(self, tp: TopicPartition) -> None:
        self.seeks.append((tp.partition, tp.offset))
        self.positions[tp.partition] = max(tp.offset, 0)

    def consumer_group_metadata(self) -> object:
        return "group-metadata"

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition, self.positions[tp.partition]) for tp in partitions]

    def close(self) -> None:
        return None

    def get_watermark_offsets(self, tp: TopicPartition, cached: bool) -> tuple[int, int]:
        return (0, len(self.log[tp.partition]))


class FakeProducer:
    """A transactional producer whose log only keeps committed records; scripted failures."""

    transactional = True

    def __init__(self, failures: list[TxnAction]) -> None:
        self.failures = failures
        self.refuse: set[bytes] = set()  # output values the "broker" refuses for good
        self._refused: dict[tuple[str, int, int], KafkaError] = {}
        self.committed_log: list[OutRecord] = []
        self.committed_offsets: dict[int, int] = {}
        self._pending: list[OutRecord] = []
        self._pending_offsets: dict[int, int] = {}
        self.in_transaction = False
        self.delivered_offsets: dict[tuple[str, int], int] = {}
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("init")

    def recreate(self) -> None:
        self.calls.append("recreate")
        self._pending.clear()
        self.in_transaction = False

    def begin(self) -> None:
        assert not self.in_transaction
        self.in_transaction = True

    def produce(
        self, record: OutRecord, partition: int | None = None, source: tuple[str, int, int] | None = None
    ) -> None:
        assert self.in_transaction
        if record.topic == "out" and record.value in self.refuse and source is not None:
            self._refused[source] = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE)
        self._pending.append(record)

    def produce_outputs(self, records: Sequence[OutRecord], source: tuple[str, int, int]) -> None:
        for record in records:
            self.produce(record, source=source)

    def produce_changelog(self, topic: str, partition: int, changes: Mapping[bytes, bytes | None]) -> None:
        for key, value in changes.items():
            self.produce(OutRecord(topic, key, value, []), partition=partition)

    def flush(self) -> None:
        if self._refused:
            refused, self._refused = self._refused, {}
            error = next(iter(refused.values()))
            raise TransactionError(TxnAction.ABORT, "delivery", error, refused)

    def send_offsets(self, offsets: Sequence[TopicPartition], metadata: object) -> None:
        assert metadata == "group-metadata"
        self._pending_offsets = {tp.partition: tp.offset for tp in offsets}

    def commit(self) -> None:
        if self.failures:
            raise TransactionError(self.failures.pop(0), "commit_transaction", None)
        self.committed_log += self._pending
        self.committed_offsets.update(self._pending_offsets)
        self._pending.clear()
        self.in_transaction = False
        self.calls.append("commit")

    def abort(self) -> None:
        self.calls.append("abort")
        self._refused.clear()
        self._pending.clear()
        self.in_transaction = False

    def poll(self) -> None:
        return None

    def close(self) -> None:
        return None


def _echo(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
    return [Emit("out", event.key, event.value)]


def _runner(
    tmp_path: Path, failures: list[TxnAction], per_partition: int = 10
) -> tuple[Runner, FakeConsumer, FakeProducer, threading.Event]:
    service = Service(
        name="echo", inputs=[Input(TOPIC, BytesCodec())], outputs=[Output("out", BytesCodec())], handler=_echo
    )
    stop = threading.Event()
    producer = FakeProducer(failures)
    consumer = FakeConsumer(per_partition, producer.committed_offsets, stop)
    state = StateManager(service, tmp_path, StateBackend.SQLITE, {}, 5.0)
    metrics = Metrics("echo")
    codec = BytesCodec().bind(None, auto_register=False)
    processor = RecordProcessor(
        service, {TOPIC: codec}, {"out": codec}, state.get, RetryPolicy(), Tracing(None, "echo"), metrics
    )
    checkpoint = Checkpoint(service, producer, consumer, state, commit_every=4, commit_interval_s=60)  # type: ignore[arg-type]
    runner = Runner(
        service_name="echo",
        topics=[TOPIC],
        consumer=consumer,  # type: ignore[arg-type]
        producer=producer,  # type: ignore[arg-type]
        processor=processor,
        state=state,
        checkpoint=checkpoint,
        metrics=metrics,
        health=Health(60),
        batch_size=10,
        max_failed_checkpoints=3,
    )
    return runner, consumer, producer, stop


def _outputs(producer: FakeProducer) -> list[bytes]:
    return sorted(record.value or b"" for record in producer.committed_log)


def _expected(per_partition: int = 10) -> list[bytes]:
    return sorted(f"{p}:{o}".encode() for p in (0, 1) for o in range(per_partition))


@pytest.mark.parametrize("action", [TxnAction.ABORT, TxnAction.RECREATE, TxnAction.RETRY])
def test_failed_commit_is_undone_and_rewound_to_committed_offsets(tmp_path: Path, action: TxnAction) -> None:
    runner, consumer, producer, stop = _runner(
        tmp_path, [TxnAction.RETRY, action] if action is TxnAction.ABORT else [action]
    )
    runner.run(stop)
    assert _outputs(producer) == _expected()  # every output exactly once
    assert consumer.seeks, "the loop never rewound"
    assert ("recreate" in producer.calls) is (action is TxnAction.RECREATE)
    assert ("abort" in producer.calls) is (action is not TxnAction.RECREATE)


def test_repeated_failures_crash_the_process(tmp_path: Path) -> None:
    runner, _, producer, stop = _runner(tmp_path, [TxnAction.ABORT] * 10)
    with pytest.raises(FatalError, match="in a row"):
        runner.run(stop)
    assert producer.committed_log == []


def test_fencing_crashes_at_once(tmp_path: Path) -> None:
    runner, _, producer, stop = _runner(tmp_path, [TxnAction.CRASH])
    with pytest.raises(FatalError):
        runner.run(stop)
    assert producer.committed_log == []


def test_lost_partitions_abort_the_open_transaction(tmp_path: Path) -> None:
    runner, consumer, producer, stop = _runner(tmp_path, [])
    consumer.lose_at = 6
    runner.run(stop)
    assert "abort" in producer.calls
    assert _outputs(producer) == _expected()


def test_an_input_whose_output_the_broker_refuses_is_dead_lettered_and_the_partition_goes_on(
    tmp_path: Path,
) -> None:
    runner, _, producer, stop = _runner(tmp_path, [])
    producer.refuse = {b"0:5", b"1:2"}
    runner.run(stop)

    outputs = [r.value for r in producer.committed_log if r.topic == "out"]
    letters = [
        parse_dead_letter(0, 0, r.key, r.value, r.headers)
        for r in producer.committed_log
        if r.topic == "dlq.echo"
    ]
    assert sorted(outputs) == sorted(set(_expected()) - producer.refuse)  # everything else exactly once
    assert sorted((d.source_partition, d.source_offset) for d in letters) == [(0, 5), (1, 2)]
    assert {d.stage for d in letters} == {"produce"}
    assert {d.error_class for d in letters} == {"bus.errors.OutputRejectedError"}
    assert all("MSG_SIZE_TOO_LARGE" in d.error_message for d in letters)
    assert producer.committed_offsets == {0: 10, 1: 10}
