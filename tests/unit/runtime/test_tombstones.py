"""Tombstones (null values) on inputs: dead-lettered, unless the input opts in to receive them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from bus.dlq import parse_dead_letter
from bus.serde import BytesCodec
from bus.service import Context, Event, Input, Outgoing, Service, StateDelete, StatePut, StoreSpec
from bus.testing import InMemoryBus

pytestmark = pytest.mark.unit


def _mirror(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
    key = (event.key or b"").decode()
    if event.value is None:
        return [StateDelete("mirror", key)] if key in ctx.state("mirror") else []
    return [StatePut("mirror", key, event.value.decode())]


def _service(tombstones: bool) -> Service:
    return Service(
        name="mirror",
        inputs=[Input("customers", BytesCodec(), tombstones=tombstones)],
        outputs=[],
        handler=_mirror,
        stores=[StoreSpec("mirror")],
        event_id=lambda value: value.decode(),  # never called with a tombstone
    )


def test_an_input_that_opts_in_hands_tombstones_to_the_handler_as_none() -> None:
    bus = InMemoryBus()
    bus.deploy(_service(tombstones=True))
    bus.publish("customers", b"alice", key=b"c1")
    bus.publish("customers", b"bob", key=b"c2")
    bus.publish("customers", None, key=b"c1")  # erasure
    assert bus.state("mirror", "mirror").get("c1") is None
    assert bus.state("mirror", "mirror").get("c2") == "bob"
    assert bus.topics["dlq.mirror"] == []


def test_without_opting_in_a_tombstone_is_dead_lettered() -> None:
    bus = InMemoryBus()
    bus.deploy(_service(tombstones=False))
    bus.publish("customers", b"alice", key=b"c1")
    bus.publish("customers", None, key=b"c1")
    (record,) = bus.topics["dlq.mirror"]
    letter = parse_dead_letter(0, 0, record.key, record.value, record.headers)
    assert (letter.stage, letter.error_message) == ("deserialize", "tombstone on an input topic")
    assert bus.state("mirror", "mirror").get("c1") == "alice"
