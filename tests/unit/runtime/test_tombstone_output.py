"""A handler deletes a key of a compacted output by emitting None: the runtime writes a tombstone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import BaseModel

from bus.serde import JsonCodec
from bus.service import Context, Emit, Event, Input, Outgoing, Output, Service
from bus.testing import InMemoryBus

pytestmark = pytest.mark.unit


class Command(BaseModel):
    key: str
    erase: bool


class Golden(BaseModel):
    key: str


def _handle(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
    command = event.value
    return [Emit("golden", command.key, None if command.erase else Golden(key=command.key))]


def test_emitting_none_produces_a_tombstone() -> None:
    bus = InMemoryBus()
    bus.deploy(
        Service(
            name="erasure",
            inputs=[Input("commands", JsonCodec(Command))],
            outputs=[Output("golden", JsonCodec(Golden))],
            handler=_handle,
        )
    )
    bus.publish("commands", Command(key="c1", erase=False).model_dump_json().encode(), key=b"c1")
    bus.publish("commands", Command(key="c1", erase=True).model_dump_json().encode(), key=b"c1")
    written, erased = bus.topics["golden"]
    assert written.value is not None
    assert bus.decode("golden", written.value) == Golden(key="c1")
    assert (erased.key, erased.value) == (b"c1", None)
