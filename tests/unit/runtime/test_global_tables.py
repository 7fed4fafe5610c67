"""Global tables in memory: a compacted topic read in full, read-only through ctx.state, tombstones delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from bus.dlq import parse_dead_letter
from bus.serde import BytesCodec
from bus.service import Context, Emit, Event, GlobalInput, Input, Outgoing, Output, Service, StatePut
from bus.testing import InMemoryBus

pytestmark = pytest.mark.unit


def _convert(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
    currency, amount = event.value.decode().split(":")
    rate = ctx.state("fx").get(currency)
    if rate is None:
        return [Emit("converted", event.key, f"no rate for {currency}".encode())]
    return [Emit("converted", event.key, f"{float(amount) * float(rate.decode()):.2f}".encode())]


def _service(handler: Any = _convert) -> Service:
    return Service(
        name="convert",
        inputs=[Input("amounts", BytesCodec())],
        outputs=[Output("converted", BytesCodec())],
        handler=handler,
        globals=[GlobalInput("fx-rates", BytesCodec(), "fx")],
    )


def test_handlers_read_the_latest_value_of_a_global_table_and_tombstones_delete() -> None:
    bus = InMemoryBus()
    bus.deploy(_service())
    bus.publish("fx-rates", b"1.10", key=b"EUR")
    bus.publish("amounts", b"EUR:10", key=b"o1")
    bus.publish("fx-rates", b"1.20", key=b"EUR")
    bus.publish("amounts", b"EUR:10", key=b"o2")
    bus.publish("fx-rates", None, key=b"EUR")
    bus.publish("amounts", b"EUR:10", key=b"o3")
    assert [record.value for record in bus.topics["converted"]] == [b"11.00", b"12.00", b"no rate for EUR"]


def test_a_global_table_is_read_only() -> None:
    def write(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
        return [StatePut("fx", "EUR", "2.0")]

    bus = InMemoryBus()
    bus.deploy(_service(write))
    bus.publish("amounts", b"EUR:1", key=b"o1")
    (record,) = bus.topics["dlq.convert"]
    letter = parse_dead_letter(0, 0, record.key, record.value, record.headers)
    assert "read-only global table 'fx'" in letter.error_message


def test_a_topic_cannot_be_both_an_input_and_a_global_table() -> None:
    with pytest.raises(ValueError, match="not both"):
        Service(
            name="x",
            inputs=[Input("fx-rates", BytesCodec())],
            outputs=[],
            handler=_convert,
            globals=[GlobalInput("fx-rates", BytesCodec(), "fx")],
        )
