"""What the producer hands confluent-kafka: the batched calls are the single-record call's."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from bus.errors import TransactionError, TxnAction
from bus.processor import OutRecord
from bus.producer import TxnProducer

pytestmark = pytest.mark.unit

SOURCE = ("in", 2, 41)
OUTPUTS = [
    OutRecord("levels", b"k1", b"v1", [("traceparent", b"00-ab")]),
    OutRecord("bysku", b"k2", None, []),
    OutRecord("alerts", None, b"v3", []),
]


class Client:
    """Records each produce call's arguments; ``fail`` scripts exceptions for the next calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fail: list[BaseException] = []
        self.polls = 0

    def produce(self, *args: Any) -> None:
        if self.fail:
            raise self.fail.pop(0)
        self.calls.append(args)

    def poll(self, timeout: float) -> int:
        self.polls += 1
        return 0


def _producer() -> tuple[TxnProducer, Client]:
    producer = TxnProducer({}, transactional=True, tracked_topics=frozenset({"svc.s.changelog"}), timeout_s=1)
    client = Client()
    producer._producer = client  # type: ignore[assignment]
    return producer, client


def _comparable(calls: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """A partial compares by identity: compare what it calls and with what instead."""
    return [
        tuple((arg.func.__qualname__, arg.args) if isinstance(arg, partial) else arg for arg in call)
        for call in calls
    ]


def test_the_outputs_of_one_input_are_produced_as_one_by_one() -> None:
    one_by_one, single = _producer()
    for record in OUTPUTS:
        one_by_one.produce(record, source=SOURCE)
    batched, batch = _producer()
    batched.produce_outputs(OUTPUTS, SOURCE)
    assert _comparable(batch.calls) == _comparable(single.calls)
    assert [call[4].args for call in batch.calls] == [(SOURCE,)] * 3
    assert len({id(call[4]) for call in batch.calls}) == 1  # one callback for the input's outputs


def test_changelog_records_are_produced_as_out_records_were() -> None:
    changes: dict[bytes, bytes | None] = {b"a": b"\x001", b"b": None}
    one_by_one, single = _producer()
    for key, value in changes.items():
        one_by_one.produce(OutRecord("svc.s.changelog", key, value, []), partition=3)
    batched, batch = _producer()
    batched.produce_changelog("svc.s.changelog", 3, changes)
    # (topic, value, key, partition) plus produce's None callback: the config's on_delivery either way
    assert [(*call, None) for call in batch.calls] == single.calls


def test_a_full_queue_is_served_and_the_record_produced_again() -> None:
    producer, client = _producer()
    client.fail = [BufferError(), BufferError()]
    producer.produce_outputs(OUTPUTS[:1], SOURCE)
    producer.produce_changelog("svc.s.changelog", 0, {b"a": b"\x001"})
    assert (len(client.calls), client.polls) == (2, 2)


def test_a_refused_output_names_its_input_and_a_refused_changelog_record_none() -> None:
    too_large = KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
    producer, client = _producer()
    client.fail = [too_large]
    with pytest.raises(TransactionError) as refused:
        producer.produce_outputs(OUTPUTS, SOURCE)
    assert (refused.value.action, refused.value.step, set(refused.value.rejected)) == (
        TxnAction.ABORT,
        "produce",
        {SOURCE},
    )
    client.fail = [too_large]
    with pytest.raises(TransactionError) as changelog:
        producer.produce_changelog("svc.s.changelog", 0, {b"a": b"\x001"})
    assert changelog.value.rejected == {}
