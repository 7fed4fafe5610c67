"""The record path without Kafka: decode, handle, retry, dead-letter, encode, state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from bus.dlq import parse_dead_letter
from bus.service import Context, Event, Outgoing, Service
from bus.testing import InMemoryBus
from services.examples.running_total.models import Amount, Total
from services.examples.running_total.service import RunningTotalSettings, build_service

pytestmark = pytest.mark.unit

IN, OUT = "amounts", "totals"


@pytest.fixture
def bus() -> InMemoryBus:
    bus = InMemoryBus()
    bus.deploy(build_service(RunningTotalSettings(service_name="rt", input_topic=IN, output_topic=OUT)))
    return bus


def _amount(account: str, value: int, event_id: str) -> Amount:
    return Amount(event_id=event_id, account=account, amount=value, occurred_at=datetime.now(UTC))


def test_running_total_folds_amounts_per_account(bus: InMemoryBus) -> None:
    for i, (account, value) in enumerate([("a", 5), ("b", 1), ("a", 7)]):
        bus.publish(IN, bus.encode(IN, _amount(account, value, f"e{i}")), key=account.encode())
    totals = [bus.decode(OUT, record.value or b"") for record in bus.topics[OUT]]
    assert [(t.account, t.total, t.count) for t in totals] == [("a", 5, 1), ("b", 1, 1), ("a", 12, 2)]
    assert all(isinstance(t, Total) for t in totals)
    assert bus.topics[OUT][2].key == b"a"
    assert bus.state("rt", "totals").get("a") == {"total": 12, "count": 2}


def test_malformed_bytes_are_dead_lettered_with_the_reason(bus: InMemoryBus) -> None:
    bus.publish(IN, b"\x00garbage", key=b"k", headers=[("source", b"test")])
    assert bus.topics[OUT] == []
    (letter_record,) = bus.topics["dlq.rt"]
    letter = parse_dead_letter(0, 0, letter_record.key, letter_record.value, letter_record.headers)
    assert letter.value == b"\x00garbage"
    assert letter.original_headers == [("source", b"test")]
    assert (letter.stage, letter.service, letter.source_topic, letter.source_offset) == (
        "deserialize",
        "rt",
        IN,
        0,
    )
    assert letter.error_class == "bus.errors.SerdeError"
    assert letter.attempt == 1
    assert datetime.fromisoformat(letter.first_failure_at).tzinfo is not None


def test_transient_failures_are_retried_then_dead_lettered(bus: InMemoryBus) -> None:
    bus.publish(IN, bus.encode(IN, _amount("flaky", 1, "f1")), key=b"flaky")
    (record,) = bus.topics["dlq.rt"]
    letter = parse_dead_letter(0, 0, record.key, record.value, record.headers)
    assert (letter.stage, letter.attempt) == ("handle", 3)
    assert letter.error_class == "bus.errors.RetryableError"


def test_permanent_failure_leaves_state_untouched(bus: InMemoryBus) -> None:
    bus.publish(IN, bus.encode(IN, _amount("a", 5, "e1")), key=b"a")
    bus.publish(IN, bus.encode(IN, _amount("a", -1, "e2")), key=b"a")
    assert "negative amount" in dict(bus.topics["dlq.rt"][0].headers)["esb.dlq.error.message"].decode()
    assert bus.state("rt", "totals").get("a") == {"total": 5, "count": 1}


def test_handler_bugs_and_bad_outputs_are_dead_lettered_not_crashes() -> None:
    def handle(event: Event[Amount], ctx: Context) -> Sequence[Outgoing]:
        if event.value.account == "bug":
            raise ZeroDivisionError("oops")
        return [object()]  # type: ignore[list-item]

    from bus.serde import AvroCodec
    from bus.service import Input
    from services.examples.running_total.models import AMOUNT_SCHEMA

    bus = InMemoryBus()
    bus.deploy(
        Service(
            name="buggy", inputs=[Input(IN, AvroCodec(Amount, AMOUNT_SCHEMA))], outputs=[], handler=handle
        )
    )
    bus.publish(IN, bus.encode(IN, _amount("bug", 1, "e1")))
    bus.publish(IN, bus.encode(IN, _amount("ok", 1, "e2")))
    stages = [dict(r.headers)["esb.dlq.stage"] for r in bus.topics["dlq.buggy"]]
    classes = [dict(r.headers)["esb.dlq.error.class"] for r in bus.topics["dlq.buggy"]]
    assert stages == [b"handle", b"serialize"]
    assert classes == [b"builtins.ZeroDivisionError", b"bus.errors.DeadLetterError"]
