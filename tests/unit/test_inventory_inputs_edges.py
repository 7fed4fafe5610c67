"""The projector's input codec against the runtime's on records no model writes: bytes written
straight from Avro values at the edges (instants at the ends of ``datetime``'s range and before the
epoch, UUID texts in every form ``UUID()`` takes or refuses, longs at their limits, every enum
symbol, optional fields null or set) and byte edits of valid records. Each decodes to the same
model, field for field, or fails with the same error."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus.serde import BoundCodec, SerdeError
from schemas.inventory.models import MovementKind, ReservationKind
from services.inventory_projector.inputs import movement_codec, reservation_codec
from tests.unit.test_inventory_inputs import _pair, _same_model

pytestmark = pytest.mark.unit

_MOVEMENTS = _pair(movement_codec())
_RESERVATIONS = _pair(reservation_codec())

_MILLIS = [
    0,
    -1,
    1,
    -62_135_596_800_000,  # 0001-01-01T00:00:00Z
    253_402_300_799_999,  # 9999-12-31T23:59:59.999Z
    253_402_300_800_000,  # one past: not a datetime
    -62_135_596_800_001,
    1_767_225_600_123,
    2**63 - 1,
    -(2**63),
]
_ID = "6f1c3f0e-5a7d-4b8e-9c61-3d2f4e8a1b90"
_UUID_TEXTS = [
    _ID,
    _ID.upper(),
    _ID.replace("-", ""),
    "{" + _ID + "}",
    "urn:uuid:" + _ID,
    _ID[:-1],
    "not a uuid",
    "",
    "\u0660" * 32,  # Arabic-Indic digits: int() reads them
    " " + _ID,
]
# Mostly values the decoder reads (so the trusted path is taken), sometimes any of the above.
_IDS = st.sampled_from(_UUID_TEXTS[:5]) | st.sampled_from(_UUID_TEXTS)
_INSTANTS = st.sampled_from(_MILLIS[:5] + _MILLIS[7:8]) | st.sampled_from(_MILLIS)
_LONGS = [0, 1, -1, 2**31, 2**63 - 1, -(2**63)]
_TEXTS = ["", "SKU-1", "ü\u2028\x00", "a" * 300]


def _body(codecs: tuple[BoundCodec, BoundCodec, Any], value: dict[str, Any]) -> bytes:
    """The record's bytes as a writer with the reader's own (registered) schema writes them."""
    runtime = codecs[1]
    header = runtime._header("t")  # type: ignore[attr-defined]
    buffer = io.BytesIO()
    buffer.write(header)
    fastavro.schemaless_writer(buffer, runtime._parsed, value)  # type: ignore[attr-defined]
    return buffer.getvalue()


def _same(codecs: tuple[BoundCodec, BoundCodec, Any], data: bytes) -> None:
    fast, runtime, _ = codecs
    try:
        expected = runtime.decode(data, "t")
    except SerdeError as error:
        message = str(error)
    else:
        _same_model(fast.decode(data, "t"), expected)
        return
    with pytest.raises(SerdeError) as got:
        fast.decode(data, "t")
    assert str(got.value) == message


def _metadata(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "event_id": draw(_IDS),
        "event_type": draw(st.sampled_from(_TEXTS)),
        "occurred_at": draw(_INSTANTS),
        "ingested_at": draw(_INSTANTS),
        "source": {
            "system": "s",
            "account": draw(st.sampled_from(_TEXTS)),
            "entity": "e",
            "native_id": "1",
            "api_version": draw(st.none() | st.sampled_from(_TEXTS)),
        },
        "provider_event_id": draw(st.none() | st.sampled_from(_TEXTS)),
        "correlation_id": draw(st.none() | st.sampled_from(_TEXTS)),
        "causation_id": draw(st.none() | st.sampled_from(_TEXTS)),
    }


@st.composite
def _movements(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "metadata": _metadata(draw),
        "movement_id": draw(_IDS),
        "kind": draw(st.sampled_from([kind.value for kind in MovementKind])),
        "sku": draw(st.sampled_from(_TEXTS)),
        "location": draw(st.sampled_from(_TEXTS)),
        "quantity": draw(st.sampled_from(_LONGS)),
        "unit_of_measure": draw(st.sampled_from(["EA", ""])),
        "counterparty_location": draw(st.none() | st.sampled_from(_TEXTS)),
        "reference": draw(st.none() | st.just({"type": "transfer", "id": "T-1", "system": None})),
        "reason": draw(st.none() | st.sampled_from(_TEXTS)),
        "unit_cost": draw(
            st.none()
            | st.sampled_from(
                [{"amount": Decimal("1.5000"), "currency": "EUR"}, {"amount": Decimal(1), "currency": "eur"}]
            )
        ),
        "source_sequence": draw(st.none() | st.sampled_from(_LONGS)),
    }


@st.composite
def _reservations(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "metadata": _metadata(draw),
        "reservation_id": draw(_IDS),
        "kind": draw(st.sampled_from([kind.value for kind in ReservationKind])),
        "sku": draw(st.sampled_from(_TEXTS)),
        "location": "WH1",
        "quantity": draw(st.sampled_from(_LONGS)),
        "order_id": draw(st.none() | _IDS),
        "order_line_id": draw(st.none() | st.sampled_from(_TEXTS)),
        "expires_at": draw(st.none() | _INSTANTS),
    }


_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _written(codecs: tuple[BoundCodec, BoundCodec, Any], value: dict[str, Any]) -> bytes | None:
    try:
        return _body(codecs, value)
    except Exception:  # fastavro refuses to write it (e.g. a decimal it cannot scale)
        return None


@_SETTINGS
@given(value=_movements())
def test_edge_movements_decode_as_the_runtime_decodes_them(value: dict[str, Any]) -> None:
    data = _written(_MOVEMENTS, value)
    if data is not None:
        _same(_MOVEMENTS, data)


@_SETTINGS
@given(value=_reservations())
def test_edge_reservations_decode_as_the_runtime_decodes_them(value: dict[str, Any]) -> None:
    data = _written(_RESERVATIONS, value)
    if data is not None:
        _same(_RESERVATIONS, data)


@_SETTINGS
@given(value=_movements(), data=st.data())
def test_byte_edits_of_a_movement_decode_or_fail_as_in_the_runtime(
    value: dict[str, Any], data: st.DataObject
) -> None:
    written = _written(_MOVEMENTS, value)
    if written is None:
        return
    body = bytearray(written)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(5, len(body)))
        kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if kind == "flip" and at < len(body):
            body[at] ^= data.draw(st.integers(1, 255))
        elif kind == "cut":
            del body[at : at + data.draw(st.integers(1, 4))]
        else:
            body[at:at] = data.draw(st.binary(min_size=1, max_size=3))
    _same(_MOVEMENTS, bytes(body))


def test_a_uuid_in_another_form_is_read_as_the_runtime_reads_it() -> None:
    for text in _UUID_TEXTS:
        record = {
            "metadata": {
                "event_id": text,
                "event_type": "t",
                "occurred_at": 0,
                "ingested_at": -1,
                "source": {
                    "system": "s",
                    "account": "a",
                    "entity": "e",
                    "native_id": "1",
                    "api_version": None,
                },
                "provider_event_id": None,
                "correlation_id": None,
                "causation_id": None,
            },
            "movement_id": text,
            "kind": "RECEIPT",
            "sku": "S",
            "location": "L",
            "quantity": 1,
            "unit_of_measure": "EA",
            "counterparty_location": None,
            "reference": None,
            "reason": None,
            "unit_cost": None,
            "source_sequence": None,
        }
        _same(_MOVEMENTS, _body(_MOVEMENTS, record))
