"""The compiled Avro encoder and decoder (bus.avro_fast) against fastavro, the reference: the
native codec (esb_native) and the generated Python one, each.

Generated canonical events of every schema: the compiled bytes are fastavro's, the compiled read
is fastavro's read (same Decimal exponents, same time zones), and the codec round-trips the model.
Values the compiled code does not handle go to fastavro, so the codec still writes its bytes.
"""

from __future__ import annotations

import importlib
import io
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import fastavro
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, field_serializer

from bus.avro_fast import UnsupportedSchemaError, compile_decoder, compile_encoder, plain_models
from bus.config import SchemaRegistrySettings
from bus.errors import SerdeError
from bus.serde import AvroCodec, registry_client
from schemas.base import AvroRecord
from schemas.events import EVENTS
from schemas.loader import parsed_schema, schema_text
from schemas.orders import OrderEvent
from tests.canonical_samples import sample_order_event
from tests.canonical_strategies import model_strategy

pytestmark = pytest.mark.unit

_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_NATIVE = hasattr(importlib.import_module("esb_native"), "AvroSchemaCodec")


@pytest.fixture(autouse=True, params=["native", "python"])
def _implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test with the native codec (esb_native) and with the generated Python one."""
    if request.param == "python":
        monkeypatch.setenv("ESB_NATIVE_AVRO", "off")
    elif not _NATIVE:
        pytest.skip("esb_native built without the schema codec")
    else:
        monkeypatch.delenv("ESB_NATIVE_AVRO", raising=False)


def _registry() -> SchemaRegistryClient:
    return registry_client(SchemaRegistrySettings(url=f"mock://{uuid.uuid4().hex}"))


def _fastavro_bytes(schema: Any, data: Any) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, data)
    return buffer.getvalue()


def _check_types(value: Any) -> None:
    """Money stays Decimal, instants stay tz-aware UTC."""
    if isinstance(value, dict):
        for item in value.values():
            _check_types(item)
    elif isinstance(value, list):
        for item in value:
            _check_types(item)
    elif isinstance(value, datetime):
        assert value.tzinfo is not None
        assert value.utcoffset() == UTC.utcoffset(None)
    elif isinstance(value, float):
        raise AssertionError(f"a float where Avro has no float: {value}")


@pytest.mark.parametrize("model", EVENTS, ids=lambda m: m.__name__)
def test_compiled_bytes_and_reads_are_fastavros(model: type[AvroRecord]) -> None:
    schema = parsed_schema(model.avro_name())
    encode = compile_encoder(schema, schema["__named_schemas"])
    decode = compile_decoder(schema, schema["__named_schemas"])
    codec = AvroCodec(model, schema_text(model.avro_name())).bind(_registry(), auto_register=True)
    assert plain_models(model)  # canonical models are read through __dict__, not dumped

    @_SETTINGS
    @given(event=model_strategy(model))
    def check(event: AvroRecord) -> None:
        theirs = _fastavro_bytes(schema, event.to_avro())
        from_model, from_dict = bytearray(), bytearray()
        encode(event, from_model)  # raises if the compiled path would fall back
        encode(event.to_avro(), from_dict)
        assert bytes(from_model) == theirs
        assert bytes(from_dict) == theirs

        read = decode(theirs, 0)
        reference = fastavro.schemaless_reader(io.BytesIO(theirs), schema, None)
        assert read == reference
        assert repr(read) == repr(reference)  # Decimal exponents, tzinfo, types

        wire = codec.encode(event, "events")
        assert wire[5:] == theirs
        back = codec.decode(wire, "events")
        assert back == event
        _check_types(back.model_dump())

    check()


def test_a_decimal_is_written_with_fastavros_byte_length() -> None:
    # fastavro sizes the two's complement from |n| ((bit_length + 8) // 8): -128 takes 2 bytes.
    schema = fastavro.parse_schema(
        {
            "type": "record",
            "name": "D",
            "fields": [
                {
                    "name": "d",
                    "type": {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 2},
                }
            ],
        }
    )
    encode = compile_encoder(schema, schema["__named_schemas"])
    decode = compile_decoder(schema, schema["__named_schemas"])
    for text in ("-1.28", "1.27", "1.28", "-1.27", "0.00", "-0.00", "-327.68", "99999999999999999.99"):
        value = {"d": Decimal(text)}
        out = bytearray()
        encode(value, out)
        assert bytes(out) == _fastavro_bytes(schema, value), text
        assert repr(decode(bytes(out), 0)) == repr(fastavro.schemaless_reader(io.BytesIO(out), schema, None))


class _Priced(BaseModel):
    price: Decimal
    at: datetime
    count: int = 0


_PRICED_SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "Priced",
        "fields": [
            {
                "name": "price",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2},
            },
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "count", "type": "int"},
        ],
    }
)


@pytest.mark.parametrize(
    "value",
    [
        _Priced(price=Decimal("1.5"), at=datetime(2026, 1, 1, tzinfo=UTC)),  # another exponent
        _Priced(price=Decimal(3), at=datetime(2026, 1, 1, 12, 30)),  # naive: fastavro's local time
        _Priced(price=Decimal("1.25"), at=datetime(2026, 1, 1, tzinfo=UTC), count=2**40),  # int overflow
    ],
)
def test_values_the_compiled_encoder_leaves_to_fastavro_get_fastavros_bytes_or_error(value: _Priced) -> None:
    registry = _registry()
    codec = AvroCodec(_Priced, _PRICED_SCHEMA).bind(registry, auto_register=True)
    context = SerializationContext("priced", MessageField.VALUE)
    serializer = AvroSerializer(registry, _PRICED_SCHEMA, lambda v, _ctx: v.model_dump())
    try:
        theirs = serializer(value, context)
    except Exception:
        with pytest.raises(SerdeError):
            codec.encode(value, "priced")
        return
    assert codec.encode(value, "priced") == theirs


def test_a_decimal_with_too_many_digits_or_places_is_refused_like_fastavro_does() -> None:
    codec = AvroCodec(_Priced, _PRICED_SCHEMA).bind(_registry(), auto_register=True)
    for price in ("12345.67", "1.234"):  # precision 6, scale 2
        with pytest.raises(SerdeError, match="cannot encode"):
            codec.encode(_Priced(price=Decimal(price), at=datetime(2026, 1, 1, tzinfo=UTC)), "priced")


class _Cents(BaseModel):
    price: Decimal
    at: datetime
    count: int = 0

    @field_serializer("price")
    def _two_places(self, price: Decimal) -> Decimal:
        return price.quantize(Decimal("0.01"))


def test_a_model_with_its_own_serializer_is_dumped_first() -> None:
    assert not plain_models(_Cents)
    registry = _registry()
    codec = AvroCodec(_Cents, _PRICED_SCHEMA).bind(registry, auto_register=True)
    value = _Cents(price=Decimal("1.5"), at=datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=UTC))
    theirs = AvroSerializer(registry, _PRICED_SCHEMA, lambda v, _ctx: v.model_dump())(
        value, SerializationContext("cents", MessageField.VALUE)
    )
    assert codec.encode(value, "cents") == theirs
    assert codec.decode(theirs, "cents") == value


def test_truncated_or_corrupt_records_are_the_records_fault() -> None:
    schema = parsed_schema(OrderEvent.avro_name())
    codec = AvroCodec(OrderEvent, schema_text(OrderEvent.avro_name())).bind(_registry(), auto_register=True)
    wire = codec.encode(sample_order_event(), "events")
    decode = compile_decoder(schema, schema["__named_schemas"])
    with pytest.raises((EOFError, IndexError, ValueError)):
        decode(wire[: len(wire) // 2], 5)
    with pytest.raises(SerdeError, match="cannot decode Avro"):
        codec.decode(wire[: len(wire) // 2], "events")


class _Either(BaseModel):
    u: str | int | None = None


_EITHER_SCHEMA = json.dumps(
    {"type": "record", "name": "U", "fields": [{"name": "u", "type": ["null", "string", "long"]}]}
)


@pytest.mark.parametrize("value", [_Either(), _Either(u="a"), _Either(u=-3)])
def test_schemas_outside_the_compiled_subset_stay_on_fastavro(value: _Either) -> None:
    schema = fastavro.parse_schema(json.loads(_EITHER_SCHEMA))
    with pytest.raises(UnsupportedSchemaError):
        compile_encoder(schema, schema["__named_schemas"])
    registry = _registry()
    codec = AvroCodec(_Either, _EITHER_SCHEMA).bind(registry, auto_register=True)
    theirs = AvroSerializer(registry, _EITHER_SCHEMA, lambda v, _ctx: v.model_dump())(
        value, SerializationContext("either", MessageField.VALUE)
    )
    assert codec.encode(value, "either") == theirs
    assert codec.decode(theirs, "either") == value


_AMOUNT_SCHEMA = {
    "type": "record",
    "name": "Amount",
    "fields": [
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 4}},
        {"name": "currency", "type": "string"},
    ],
}
_HOLDER_SCHEMA = fastavro.parse_schema(
    {
        "type": "record",
        "name": "Holder",
        "fields": [
            {"name": "first", "type": _AMOUNT_SCHEMA},
            {"name": "second", "type": ["null", "Amount"]},
        ],
    }
)


class _Currency(str):
    __slots__ = ()


def test_an_amount_remembered_by_value_is_written_as_fastavro_writes_each_value() -> None:
    """Amount records (decimals and strings) are remembered by their values: a later equal value
    is the same bytes only when it is of the types written (the same exponent, a str), anything
    else is encoded field by field, which refuses what it refuses (then fastavro decides)."""
    encode = compile_encoder(_HOLDER_SCHEMA, _HOLDER_SCHEMA["__named_schemas"])

    def both(first: Any, second: Any) -> bytes:
        out = bytearray()
        encode({"first": first, "second": second}, out)
        value = {"first": first, "second": second}
        assert bytes(out) == _fastavro_bytes(_HOLDER_SCHEMA, value)
        return bytes(out)

    usd = {"amount": Decimal("12.5000"), "currency": "USD"}
    written = both(usd, usd)  # the second is a hit
    first = len(written) // 2
    assert written[first] == 2  # the union's branch, then the first amount's bytes again
    assert written[first + 1 :] == written[:first]
    both({"amount": Decimal("12.5000"), "currency": "USD"}, None)  # equal, another object
    both({"amount": Decimal("-0.0000"), "currency": "USD"}, {"amount": Decimal("0.0000"), "currency": "USD"})
    both({"amount": Decimal("12.5000"), "currency": _Currency("USD")}, usd)  # equal, not a str
    for other in (Decimal("12.5"), Decimal("12.50000"), 12.5):  # equal values the compiled code refuses
        with pytest.raises((TypeError, OverflowError)):
            encode({"first": {"amount": other, "currency": "USD"}, "second": None}, bytearray())
    with pytest.raises(AttributeError):  # bytes for a string: not written (fastavro decides)
        encode({"first": {"amount": Decimal("12.5000"), "currency": b"USD"}, "second": None}, bytearray())


def test_equal_amounts_of_other_exponents_still_get_fastavros_bytes_or_error() -> None:
    registry = _registry()
    schema = json.dumps(_AMOUNT_SCHEMA)
    codec = AvroCodec(_Amount, schema).bind(registry, auto_register=True)
    serializer = AvroSerializer(registry, schema, lambda v, _ctx: v.model_dump())
    context = SerializationContext("amounts", MessageField.VALUE)
    codec.encode(_Amount(amount=Decimal("7.0000"), currency="EUR"), "amounts")  # remembered
    assert codec.encode(_Amount(amount=Decimal(7), currency="EUR"), "amounts") == serializer(
        _Amount(amount=Decimal(7), currency="EUR"), context
    )
    with pytest.raises(SerdeError):  # more places than the scale: fastavro refuses it
        codec.encode(_Amount(amount=Decimal("7.00000"), currency="EUR"), "amounts")


class _Amount(BaseModel):
    amount: Decimal
    currency: str


_UUID_SCHEMA = fastavro.parse_schema(
    {
        "type": "record",
        "name": "Identified",
        "fields": [{"name": "id", "type": {"type": "string", "logicalType": "uuid"}}],
    }
)


def _uuid_texts() -> st.SearchStrategy[str]:
    """Canonical UUIDs, their other spellings, near misses and arbitrary text."""
    canonical = st.uuids().map(str)
    spellings = st.sampled_from(
        [
            str.upper,
            lambda s: s.replace("-", ""),
            lambda s: "{" + s + "}",
            lambda s: "{" + s.replace("-", "")[:30] + "}",  # 32 characters once the dashes are gone
            lambda s: "urn:" + s.replace("-", "")[:28],
            lambda s: "uuid:" + s[:30],
            lambda s: "urn:uuid:" + s,
            lambda s: "uuid:" + s.upper(),
            lambda s: " " + s,
            lambda s: s[:-1],
            lambda s: s + "0",
            lambda s: s[:8] + "_" + s[9:],
            lambda s: s[:9] + "g" + s[10:],
            lambda s: "+" + s[1:],
            lambda s: "0x" + s[2:],
            lambda s: s.replace("-", "", 1) + "-",
            lambda s: s[:4] + "\u0663" + s[5:],  # a non-ASCII decimal digit, which int() accepts
            lambda s: s[:4] + "\u00b2" + s[5:],  # a letter-or-digit int() refuses
        ]
    )
    near = st.builds(lambda s, spell: spell(s), canonical, spellings)
    return st.one_of(
        canonical, near, st.text(max_size=40), st.text(alphabet="0123456789abcdefABCDEF-{}:", max_size=45)
    )


def _outcome(read: Callable[[], Any]) -> tuple[str, Any]:
    try:
        value = read()
    except Exception as exc:  # the error itself is compared
        return type(exc).__name__, exc.args
    return type(value).__name__, (value, value.int, value.is_safe, repr(value))


@settings(max_examples=300, deadline=None)
@given(text=_uuid_texts())
def test_a_uuid_string_reads_as_fastavro_reads_it(text: str) -> None:
    # The same UUID for every spelling UUID() accepts, the same error type and text for the rest.
    decode = compile_decoder(_UUID_SCHEMA, {})
    written = _fastavro_bytes(_UUID_SCHEMA, {"id": text})
    ours = _outcome(lambda: decode(written, 0)["id"])
    assert ours == _outcome(lambda: fastavro.schemaless_reader(io.BytesIO(written), _UUID_SCHEMA, None)["id"])
