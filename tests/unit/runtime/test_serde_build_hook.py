"""``AvroCodec(build=...)``: a hot input's model made without a second validation, and every other
case (declined, failing, another writer schema) validated as without the hook."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from pydantic import BaseModel

from bus.config import SchemaRegistrySettings
from bus.errors import SerdeError
from bus.serde import AvroCodec, BoundCodec, registry_client
from schemas.loader import schema_text
from schemas.orders import OrderEvent
from tests.canonical_samples import sample_order_event

pytestmark = pytest.mark.unit

_SCHEMA = schema_text(OrderEvent.avro_name())


def _codecs(build: Any) -> tuple[BoundCodec, BoundCodec]:
    """(with the hook, without it) on one registry."""
    registry = registry_client(SchemaRegistrySettings(url=f"mock://{uuid.uuid4().hex}"))
    hooked = AvroCodec(OrderEvent, _SCHEMA, build).bind(registry, auto_register=True)
    plain = AvroCodec(OrderEvent, _SCHEMA).bind(registry, auto_register=True)
    return hooked, plain


def test_the_builder_makes_the_value_of_a_record_in_the_own_schema() -> None:
    made = sample_order_event()
    seen: list[dict[str, Any]] = []

    def build(read: dict[str, Any]) -> BaseModel:
        seen.append(read)
        return made

    hooked, plain = _codecs(build)
    data = plain.encode(sample_order_event(), "t")
    assert hooked.decode(data, "t") is made
    assert list(seen[0]) == list(OrderEvent.model_fields)  # the dict the decoder read, in field order


def test_a_declined_or_failing_build_is_validated_from_a_fresh_read() -> None:
    def decline(read: dict[str, Any]) -> None:
        return None

    def spoil_then_fail(read: dict[str, Any]) -> BaseModel:
        read["metadata"] = "spoiled"  # what a builder changed before failing must not reach validation
        raise RuntimeError("builder bug")

    for build in (decline, spoil_then_fail):
        hooked, plain = _codecs(build)
        data = plain.encode(sample_order_event(), "t")
        assert hooked.decode(data, "t") == plain.decode(data, "t")


def test_a_record_of_another_writer_schema_is_never_built() -> None:
    built: list[dict[str, Any]] = []

    def build(read: dict[str, Any]) -> None:
        built.append(read)

    hooked, plain = _codecs(build)
    older = json.loads(_SCHEMA)
    # The writer's fields in another order: another schema id, resolved (and validated) on read.
    older["fields"] = list(reversed(older["fields"]))
    registry_codec = AvroCodec(OrderEvent, json.dumps(older)).bind(
        hooked._registry,  # type: ignore[attr-defined]
        auto_register=True,
    )
    data = registry_codec.encode(sample_order_event(), "older")
    assert hooked.decode(data, "t") == plain.decode(data, "t")
    assert built == []


def test_malformed_bytes_fail_as_without_the_hook() -> None:
    hooked, plain = _codecs(lambda read: None)
    data = plain.encode(sample_order_event(), "t")
    for bad in (data[:-3], data[:5] + b"\xff" * 8, b"\x00\x00"):
        with pytest.raises(SerdeError) as expected:
            plain.decode(bad, "t")
        with pytest.raises(SerdeError) as got:
            hooked.decode(bad, "t")
        assert str(got.value) == str(expected.value)
