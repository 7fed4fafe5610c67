"""The per-record values (msgspec Structs) stay immutable, typed and equal only to their own type."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from bus.processor import OutRecord, Processed, Record
from bus.service import Emit, Event, Outgoing, StateDelete, StatePut

pytestmark = pytest.mark.unit


def _equal(left: object, right: object) -> bool:
    return left == right


def test_values_with_the_same_fields_but_another_type_are_not_equal() -> None:
    emit, put = Emit("store", "k", 1, {}), StatePut("store", "k", 1)
    assert emit == Emit(topic="store", key="k", value=1)  # positional == keyword, default headers
    assert put == StatePut("store", "k", 1)
    assert not _equal(put, Emit("store", "k", 1))
    assert not _equal(StatePut("s", "k", None), StateDelete("s", "k"))
    assert not _equal(emit, ("store", "k", 1, {}))
    assert not _equal(StateDelete("s", "k"), ("s", "k"))
    assert not _equal(OutRecord("t", b"k", b"v", []), Record("t", 0, 0, b"k", b"v"))
    assert hash(put) == hash(StatePut("store", "k", 1))


@pytest.mark.parametrize(
    "value",
    [
        Emit("t", "k", 1),
        StatePut("s", "k", 1),
        StateDelete("s", "k"),
        Event(1, b"k", "t", 0, 5, 0, {}),
        Record("t", 0, 5, b"k", b"v"),
        OutRecord("t", b"k", b"v", []),
        Processed([], []),
    ],
)
def test_values_are_immutable(value: Any) -> None:
    name = msgspec.structs.fields(value)[0].name
    with pytest.raises(AttributeError):
        setattr(value, name, "changed")
    assert getattr(value, name) != "changed"


def test_empty_defaults_are_not_shared_between_instances() -> None:
    assert Emit("t", "k", 1).headers is not Emit("t", "k", 1).headers
    assert Record("t", 0, 0, None, None).headers is not Record("t", 0, 0, None, None).headers
    assert Record("t", 0, 0, None, None).timestamp_ms == 0
    assert Processed([], []).dead_letter is None


def test_handler_results_match_by_type_and_position() -> None:
    def kind(item: Outgoing) -> str:
        match item:
            case Emit(topic, key):
                return f"emit {topic} {key!r}"
            case StatePut(store, key, value):
                return f"put {store} {key} {value}"
            case StateDelete(store, key):
                return f"delete {store} {key}"

    assert kind(Emit("out", b"k", None)) == "emit out b'k'"
    assert kind(StatePut("s", "k", 2)) == "put s k 2"
    assert kind(StateDelete("s", "k")) == "delete s k"


def test_replace_builds_a_changed_copy() -> None:
    emit = Emit("t", "k", 1, {"h": b"1"})
    moved = msgspec.structs.replace(emit, topic="u")
    assert moved == Emit("u", "k", 1, {"h": b"1"})
    assert emit.topic == "t"
