"""The native Avro codec (``esb_native.AvroSchemaCodec``) against the generated Python codec of
``bus.avro_fast`` and fastavro: the same bytes, the same values (types included), and an error
wherever the Python codec raises, for writing and for reading (truncated and corrupt bytes).
"""

from __future__ import annotations

import importlib
import io
import json
import math
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus.avro_fast import (
    Decoder,
    Encoder,
    UnsupportedSchemaError,
    _fields_of,
    _models,
    compile_decoder,
    compile_encoder,
)
from schemas.base import NAMESPACE_ROOT, AvroRecord
from schemas.events import EVENTS
from schemas.loader import SCHEMA_ROOT, avsc_files, parsed_schema, schema_text
from tests.canonical_samples import sample_order_event
from tests.canonical_strategies import model_strategy

_CODEC = getattr(importlib.import_module("esb_native"), "AvroSchemaCodec", None)

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(_CODEC is None, reason="esb_native built without the schema codec"),
]

_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _both(schema: Any) -> tuple[Encoder, Decoder, Any]:
    """The Python compiled encoder and decoder, and the native codec, of a parsed schema."""
    named = schema["__named_schemas"]
    assert _CODEC is not None
    native = _CODEC(schema, named, _models, _fields_of)
    return compile_encoder(schema, named, native=False), compile_decoder(schema, named, native=False), native


def _fastavro_bytes(schema: Any, data: Any) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, data)
    return buffer.getvalue()


def _typed(value: Any) -> Any:
    """The value with the type of every part, so 1 == True or Decimal("1") == 1 do not pass."""
    if isinstance(value, dict):
        return ("dict", [(key, _typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan", math.copysign(1, value))
    if isinstance(value, datetime):
        return ("datetime", value, value.tzinfo, value.fold)
    if isinstance(value, uuid.UUID):
        return ("UUID", value.int, value.is_safe)
    return (type(value).__name__, repr(value))


def _written(encode: Any, value: Any) -> tuple[str, Any]:
    out = bytearray()
    try:
        encode(value, out)
    except Exception as exc:  # whether it raises is compared (the caller then uses fastavro)
        return "raised", type(exc).__name__
    return "wrote", bytes(out)


def _read(decode: Any, data: bytes, offset: int = 0) -> tuple[str, Any]:
    try:
        value = decode(data, offset)
    except Exception as exc:
        return "raised", type(exc).__name__
    return "read", _typed(value)


def _same_outcome(ours: tuple[str, Any], theirs: tuple[str, Any]) -> None:
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] != "raised":  # the error types may differ (e.g. EOFError for struct.error)
        assert ours[1] == theirs[1]


@pytest.mark.parametrize("model", EVENTS, ids=lambda m: m.__name__)
def test_every_canonical_schema_is_written_and_read_as_the_python_codec_does(model: type[AvroRecord]) -> None:
    schema = parsed_schema(model.avro_name())
    py_encode, py_decode, native = _both(schema)
    assert native.writes

    @_SETTINGS
    @given(event=model_strategy(model), cuts=st.lists(st.integers(min_value=0), max_size=4), data=st.data())
    def check(event: AvroRecord, cuts: list[int], data: st.DataObject) -> None:
        theirs = _fastavro_bytes(schema, event.to_avro())
        for value in (event, event.to_avro()):
            assert _written(native.encode, value) == ("wrote", theirs)
            assert _written(py_encode, value) == ("wrote", theirs)
        assert _read(native.decode, theirs) == _read(py_decode, theirs)
        assert _read(native.decode, b"\x00" * 5 + theirs, 5) == _read(py_decode, theirs)
        for cut in cuts:  # every proper prefix is truncated for both
            prefix = theirs[: cut % len(theirs)]
            assert _read(native.decode, prefix)[0] == "raised"
            assert _read(py_decode, prefix)[0] == "raised"
        # corrupt bytes: both raise or both read the same value
        corrupt = bytearray(theirs)
        for _ in range(data.draw(st.integers(1, 3))):
            corrupt[data.draw(st.integers(0, len(corrupt) - 1))] = data.draw(st.integers(0, 255))
        _same_outcome(_read(native.decode, bytes(corrupt)), _read(py_decode, bytes(corrupt)))

    check()


def test_the_sample_order_event_with_several_lines() -> None:
    event = sample_order_event()
    order = event.order
    lines = [
        line.model_copy(update={"line_id": f"{line.line_id}-{i}"}) for i in range(5) for line in order.lines
    ]
    event = event.model_copy(update={"order": order.model_copy(update={"lines": lines})})
    schema = parsed_schema(type(event).avro_name())
    py_encode, py_decode, native = _both(schema)
    written = _written(native.encode, event)
    assert written == _written(py_encode, event) == ("wrote", _fastavro_bytes(schema, event.to_avro()))
    assert _read(native.decode, written[1]) == _read(py_decode, written[1])


class _Kind(StrEnum):
    A = "A"
    B = "B"


class _Text(str):
    __slots__ = ()


class _Stamp(datetime):
    pass


class _Id(uuid.UUID):
    pass


def _decimal(precision: int, scale: int) -> dict[str, Any]:
    return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}


_EVERYTHING: Any = fastavro.parse_schema(
    {
        "type": "record",
        "name": "test.Everything",
        "fields": [
            {"name": "n", "type": "null"},
            {"name": "b", "type": "boolean"},
            {"name": "i", "type": "int"},
            {"name": "l", "type": "long"},
            {"name": "f", "type": "float"},
            {"name": "d", "type": "double"},
            {"name": "s", "type": "string"},
            {"name": "y", "type": "bytes"},
            {"name": "e", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
            {"name": "a", "type": {"type": "array", "items": "long"}},
            {"name": "m", "type": {"type": "map", "values": "string"}},
            {"name": "o", "type": ["null", "string"]},
            {"name": "o2", "type": ["long", "null"]},
            {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "tm", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "tu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
            {"name": "dt", "type": {"type": "int", "logicalType": "date"}},
            {"name": "dec", "type": _decimal(6, 2)},
            {
                "name": "money",
                "type": {
                    "type": "record",
                    "name": "Money",
                    "fields": [
                        {"name": "amount", "type": _decimal(20, 4)},
                        {"name": "currency", "type": "string"},
                    ],
                },
            },
            {"name": "monies", "type": {"type": "array", "items": "Money"}},
            {
                "name": "chain",
                "type": [
                    "null",
                    {
                        "type": "record",
                        "name": "Link",
                        "fields": [{"name": "v", "type": "int"}, {"name": "next", "type": ["null", "Link"]}],
                    },
                ],
            },
        ],
    }
)

_AWARE = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]),
)
_EDGE_INTS = st.sampled_from(
    [0, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1]
)
_UUIDS = st.one_of(st.uuids(), st.uuids().map(str), st.uuids().map(lambda u: _Id(int=u.int)))
_DECIMALS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=2),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.decimals(),
    st.sampled_from(
        [
            Decimal("NaN"),
            Decimal("-Infinity"),
            Decimal("sNaN"),
            Decimal("9999.99"),
            Decimal("-9999.99"),
            Decimal("10000.00"),
            Decimal("1E+2"),
            Decimal("-0.00"),
            Decimal("0E-2"),
            Decimal("1.28"),
        ]
    ),
)
_TEXTS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["A", "B", "C", "D", "\ud800", ""]),
    st.just(_Kind.A),
    st.text(max_size=4).map(_Text),
)
# any value of any type, for any field: where the Python codec refuses it, the native one must too
_ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    _EDGE_INTS,
    st.floats(),
    st.floats(width=32),
    st.just(1e300),
    _TEXTS,
    st.binary(max_size=6),
    st.binary(max_size=6).map(bytearray),
    _UUIDS,
    _AWARE,
    st.datetimes(),
    _AWARE.map(lambda d: _Stamp.fromisoformat(d.isoformat())),
    st.dates(),
    _DECIMALS,
    st.lists(st.integers(), max_size=3),
    st.tuples(st.integers()),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
    st.dictionaries(st.integers(), st.text(), max_size=2, min_size=1),
    st.sets(st.integers(), max_size=2),
)


def _money() -> st.SearchStrategy[Any]:
    amounts = st.decimals(places=4, min_value=-(10**15), max_value=10**15)
    return st.fixed_dictionaries(
        {"amount": amounts, "currency": st.one_of(st.text(max_size=3), st.just(_Text("EUR")))}
    )


_LINK: st.SearchStrategy[Any] = st.deferred(
    lambda: st.fixed_dictionaries(
        {"v": st.integers(-(2**31), 2**31 - 1), "next": st.one_of(st.none(), _LINK)}
    )
)

_RIGHT: dict[str, st.SearchStrategy[Any]] = {
    "n": st.none(),
    "b": st.booleans(),
    "i": st.integers(-(2**31), 2**31 - 1),
    "l": st.one_of(st.integers(-(2**63), 2**63 - 1), _EDGE_INTS),
    "f": st.floats(width=32),
    "d": st.floats(),
    "s": st.one_of(st.text(max_size=8), st.just(_Kind.A), st.text(max_size=4).map(_Text)),
    "y": st.binary(max_size=10),
    "e": st.sampled_from(["A", "B", "C", _Kind.B]),
    "a": st.one_of(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=4), st.tuples(st.integers(0, 9))),
    "m": st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=3),
    "o": st.one_of(st.none(), st.text(max_size=3)),
    "o2": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    "u": _UUIDS,
    "tm": _AWARE,
    "tu": _AWARE,
    "dt": st.dates(),
    "dec": st.decimals(places=2, min_value=-9999, max_value=9999),
    "money": _money(),
    "monies": st.lists(_money(), max_size=3),
    "chain": st.one_of(st.none(), _LINK),
}


@st.composite
def _values(draw: st.DrawFn) -> dict[str, Any]:
    """A valid value, or one with a field missing or of any value (mostly a wrong one)."""
    value = {name: draw(right) for name, right in _RIGHT.items()}
    change = draw(st.sampled_from([None, None, "missing", "anything", "anything", "anything"]))
    field = draw(st.sampled_from(sorted(_RIGHT)))
    if change == "missing":
        del value[field]
    elif change == "anything":
        value[field] = draw(_ANYTHING)
    return value


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_values())
def test_any_value_is_written_or_refused_as_the_python_codec_does(value: dict[str, Any]) -> None:
    py_encode, py_decode, native = _STATE
    ours, theirs = _written(native.encode, value), _written(py_encode, value)
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "wrote":
        assert ours[1] == theirs[1] == _fastavro_bytes(_EVERYTHING, value)
        assert _read(native.decode, ours[1]) == _read(py_decode, ours[1])


@settings(max_examples=600, deadline=None)
@given(data=st.binary(max_size=200), offset=st.integers(0, 3))
def test_arbitrary_bytes_are_read_or_refused_as_the_python_codec_does(data: bytes, offset: int) -> None:
    _, py_decode, native = _STATE
    _same_outcome(_read(native.decode, data, offset), _read(py_decode, data, offset))


_STATE = _both(_EVERYTHING)


def test_edges_are_written_and_read_alike() -> None:
    py_encode, py_decode, native = _STATE
    base: dict[str, Any] = {
        "n": None,
        "b": True,
        "i": -(2**31),
        "l": 2**63 - 1,
        "f": 3.4e38,
        "d": math.nan,
        "s": _Kind.A,
        "y": b"",
        "e": _Kind.B,
        "a": (),
        "m": {},
        "o": _Text("x"),
        "o2": None,
        "u": uuid.UUID(int=0),
        "tm": datetime(1, 1, 1, 5, tzinfo=timezone(timedelta(hours=5))),
        "tu": datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        "dt": date(1, 1, 1),
        "dec": Decimal("-1.28"),
        "money": {"amount": Decimal("-0.0000"), "currency": "USD"},
        "monies": [],
        "chain": {"v": 1, "next": {"v": 2, "next": None}},
    }
    written = _written(native.encode, base)
    assert written == _written(py_encode, base)
    assert written[0] == "wrote"
    assert _read(native.decode, written[1]) == _read(py_decode, written[1])
    refused = {
        "b": 1,
        "i": 2**31,
        "l": True,
        "f": 1e300,
        "d": 1,
        "s": b"x",
        "y": bytearray(b"x"),
        "e": "D",
        "a": {1},
        "m": [("a", "b")],
        "o2": 1.0,
        "u": _Id(int=1),
        "tm": datetime(2026, 1, 1),
        "tu": _Stamp(2026, 1, 1, tzinfo=UTC),
        "dt": datetime(2026, 1, 1),
        "dec": Decimal("1.5"),
        "money": {"amount": Decimal("12345678901234567.0000"), "currency": "USD"},
        "chain": {"v": 1},
    }
    for field, bad in refused.items():
        value = {**base, field: bad}
        assert _written(py_encode, value)[0] == "raised", field
        assert _written(native.encode, value)[0] == "raised", field
    out = bytearray(b"kept")
    with pytest.raises(TypeError):
        native.encode({**base, "i": "1"}, out)
    assert out == b"kept"  # nothing appended on a refusal


def test_longs_beyond_64_bits_and_decimals_beyond_the_precision_read_alike() -> None:
    schema: Any = fastavro.parse_schema(
        {
            "type": "record",
            "name": "W",
            "fields": [{"name": "l", "type": "long"}, {"name": "d", "type": _decimal(3, 1)}],
        }
    )
    _, py_decode, native = _both(schema)
    for data in (
        b"\xff" * 9 + b"\x7f" + b"\x00",  # 70 bits: Python ints are unbounded
        b"\xff" * 10 + b"\x01",  # 11 bytes: refused
        b"\x02" + b"\x04\x27\x10",  # 10000 with precision 3: the context rounds
        b"\x02" + b"\x22" + b"\x7f" + b"\xff" * 16,  # 17 bytes
        b"\x02\x00",  # an empty decimal: 0
    ):
        _same_outcome(_read(native.decode, data), _read(py_decode, data))


def test_a_general_union_is_read_natively_and_written_by_the_python_path() -> None:
    schema: Any = fastavro.parse_schema(
        {"type": "record", "name": "U", "fields": [{"name": "u", "type": ["null", "string", "long"]}]}
    )
    assert _CODEC is not None
    native = _CODEC(schema, {}, _models, _fields_of)
    assert not native.writes
    with pytest.raises(UnsupportedSchemaError):
        compile_encoder(schema, {})
    assert type(compile_decoder(schema, {})).__name__ == "builtin_function_or_method"  # native
    for value in (None, "a", -3):
        data = _fastavro_bytes(schema, {"u": value})
        assert _read(native.decode, data) == _read(compile_decoder(schema, {}, native=False), data)


def test_schemas_outside_the_plan_are_refused_at_construction() -> None:
    assert _CODEC is not None
    for field_type in (
        {"type": "fixed", "name": "F", "size": 4},
        {"type": "long", "logicalType": "time-micros"},
        {"type": "string", "logicalType": "other"},
        _decimal(39, 2),  # beyond i128: the generated Python writes it
    ):
        schema: Any = fastavro.parse_schema(
            {"type": "record", "name": "X", "fields": [{"name": "x", "type": field_type}]}
        )
        with pytest.raises(ValueError, match="unsupported"):
            _CODEC(schema, schema["__named_schemas"], _models, _fields_of)


def _compiles(compile_: Any, schema: Any) -> bool:
    try:
        compile_(schema, schema["__named_schemas"], native=False)
    except UnsupportedSchemaError:
        return False
    return True


def test_every_schema_file_and_released_schema_is_covered_where_the_python_codec_compiles() -> None:
    """Working schemas (each record file, e.g. ``Money``) and released snapshots: the native plan
    covers what the generated Python covers (so no schema loses its compiled codec)."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(SCHEMA_ROOT.glob("released/*/*.avsc"))]
    for path in avsc_files():
        namespace = path.parent.name
        fullname = f"{NAMESPACE_ROOT}.{namespace}.{path.stem}"
        texts.append(schema_text(fullname))
    assert len(texts) > 40
    for text in texts:
        schema: Any = fastavro.parse_schema(json.loads(text))
        if schema.get("type") != "record":
            continue
        assert _CODEC is not None
        native = _CODEC(schema, schema["__named_schemas"], _models, _fields_of)
        assert native.writes == _compiles(compile_encoder, schema)
        assert _compiles(compile_decoder, schema)


def test_the_switch_keeps_the_python_codec(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = _EVERYTHING
    assert type(compile_encoder(schema, schema["__named_schemas"])).__name__ == "builtin_function_or_method"
    monkeypatch.setenv("ESB_NATIVE_AVRO", "off")
    assert type(compile_encoder(schema, schema["__named_schemas"])).__name__ == "function"
    assert type(compile_decoder(schema, schema["__named_schemas"])).__name__ == "function"
