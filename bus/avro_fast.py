"""Avro binary encoding and decoding compiled once per schema, byte for byte fastavro's.

Why hand-written: fastavro (and confluent-kafka's Avro serdes, which call it) interprets the
schema for every value: it dispatches on the type's name, builds the logical type's name,
converts a ``Decimal`` through its digit tuple and chooses a union's branch by validating the
value against each branch. On a canonical ``OrderEvent`` (~300 fields) that is ~170 µs a write
and ~130 µs a read, and still ~110 µs a write against a schema without logical types and with
every union branch named. ``cavro`` (the other compiled Avro library; unmaintained since 2023)
writes no faster. Here the schema is turned once, at bind time, into Python source: records and
every other type inlined (a function only for the entry and recursive records), the branch of a
``["null", X]`` union chosen by ``is None``, logical types converted in the same pass, pydantic
models read through their ``__dict__`` (no ``model_dump``), decimals memoized, and so are
records of decimals and strings (``Money``: ~70 in a 7-line order) by their field values.

The encoder writes only the canonical Python values: ``str``, ``int`` in range, ``bool``,
``float``, ``bytes``, ``Decimal`` with exactly the schema's scale, tz-aware ``datetime``,
``date``, ``UUID``, enum symbols (``StrEnum`` members), lists, dicts and pydantic models (or
dicts) for records. On anything else it raises, and the caller writes that record with fastavro
instead: the reference decides every edge (naive datetimes, other decimal exponents, missing
fields, out-of-range numbers) and raises its own errors. The decoder returns what fastavro's
reader returns (dicts, ``Decimal`` of the schema's scale, UTC ``datetime``, ``UUID``) for a
record read with its writer schema; on malformed bytes it raises and the caller asks fastavro.
A schema using what this module does not compile (other unions, ``fixed``, other logical types)
raises :class:`UnsupportedSchemaError` at bind time and stays on fastavro entirely.

The same codec also exists in Rust: ``esb_native.AvroSchemaCodec`` (``native/``) plans the
schema once and writes and reads with exactly these rules, 4 to 8 times faster (a
``StockMovementEvent`` read in ~0.9 µs instead of ~6, an ``InventoryLevel`` written in ~0.55 µs
instead of ~4). :func:`compile_encoder` and :func:`compile_decoder` return it whenever
``esb_native`` is importable, has it and covers the schema (it reads every union, and writes the
``["null", X]`` ones); otherwise the Python source generated here. The generated Python stays the
definition: ``tests/unit/runtime/test_avro_native.py`` checks the native codec against it value for
value and byte for byte, errors included: it raises wherever the Python code does (and also on
records nested deeper than 200 and on a non-``str`` with an ``encode()`` method for a string, both
then left to fastavro); on a refusal it leaves the output buffer as it was.
``ESB_NATIVE_AVRO=off`` in the environment (read when a codec is compiled, i.e. at bind time)
keeps the generated Python.
"""

from __future__ import annotations

import importlib
import os
import struct
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel

__all__ = [
    "Decoder",
    "Encoder",
    "UnsupportedSchemaError",
    "compile_decoder",
    "compile_encoder",
    "plain_models",
]

Encoder = Callable[[Any, bytearray], None]
"""Appends the Avro body of a value to a buffer; raises on a value it does not handle."""


class UnsupportedSchemaError(Exception):
    """The schema uses something the compiler does not handle: use fastavro for it."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAYS = date(1970, 1, 1).toordinal()
_LONG = (-(1 << 63), (1 << 63) - 1)
_INT = (-(1 << 31), (1 << 31) - 1)


def _zigzag(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append(z & 0x7F | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def plain_models(model: type[BaseModel]) -> bool:
    """True when ``model.model_dump()`` is its fields as stored (no custom serializer anywhere in
    the model or a nested one), so the encoder may read ``__dict__`` instead of dumping."""

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            if "serialization" in node or node.get("computed_fields"):
                return False
            return all(walk(value) for value in node.values())
        if isinstance(node, list | tuple):
            return all(walk(value) for value in node)
        return True

    return walk(model.__pydantic_core_schema__)


_MEMO_SIZE = 4096  # decimals remembered per (precision, scale); amounts repeat within and across records


class _DecimalWriter:
    """A ``Decimal`` with exponent ``-scale`` as fastavro writes it: the length, then the unscaled
    integer in big-endian two's complement of ``(bit_length(|n|) + 8) // 8`` bytes. Results are
    memoized (equal decimals of one exponent have one encoding)."""

    __slots__ = ("lengths", "limit", "memo", "quantum", "scale")

    def __init__(self, precision: int, scale: int) -> None:
        self.quantum = Decimal(1).scaleb(-scale)
        self.limit: int = 10**precision  # fastavro refuses more than `precision` digits
        self.scale: int = 10**scale
        self.memo: dict[Decimal, bytes] = {}
        self.lengths = [_zigzag(size) for size in range(self.limit.bit_length() // 8 + 2)]

    def encode(self, value: Decimal) -> bytes:
        n, denominator = value.as_integer_ratio()  # exact; the denominator divides 10**scale
        n *= self.scale // denominator
        if not -self.limit < n < self.limit:
            raise OverflowError(f"{value} has more digits than the schema's precision")
        body = n.to_bytes(((-n if n < 0 else n).bit_length() + 8) // 8, "big", signed=True)
        encoded = self.lengths[len(body)] + body
        if len(self.memo) >= _MEMO_SIZE:
            self.memo.clear()
        self.memo[value] = encoded
        return encoded


class _DecimalReader:
    """fastavro's ``read_decimal`` (unscaled integer, a context of the schema's precision,
    ``scaleb(-scale)``), memoized on the bytes."""

    __slots__ = ("context", "memo", "scale")

    def __init__(self, precision: int, scale: int) -> None:
        self.context = Context(prec=precision)
        self.scale = -scale
        self.memo: dict[bytes, Decimal] = {}

    def decode(self, raw: bytes) -> Decimal:
        value = self.context.create_decimal(int.from_bytes(raw, "big", signed=True)).scaleb(
            self.scale, self.context
        )
        if len(self.memo) >= _MEMO_SIZE:
            self.memo.clear()
        self.memo[raw] = value
        return value


class _Compiler:
    def __init__(self, named: dict[str, Any]) -> None:
        self._named = named
        self._functions: dict[str, list[str]] = {}  # record full name -> source lines
        self._names: dict[str, str] = {}  # record full name -> function name
        self.constants: dict[str, Any] = {}
        self._temps = 0
        self._inlining: list[str] = []  # records being inlined, outermost first
        self._decimals: dict[tuple[int, int], str] = {}  # (precision, scale) -> its _DecimalWriter
        self._amount_memos: dict[str, str] = {}  # amount record name -> its memo of encodings

    def source(self) -> str:
        return "\n".join(line for lines in self._functions.values() for line in lines)

    def _const(self, value: Any) -> str:
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name

    def _temp(self) -> str:
        self._temps += 1
        return f"x{self._temps}"

    def record(self, schema: dict[str, Any]) -> str:
        """The name of a function encoding ``schema`` (for the entry point and recursive records)."""
        full = schema["name"]
        if full in self._names:
            return self._names[full]
        function = f"w{len(self._names)}"  # not the Avro name: only our own text goes into the source
        self._names[full] = function
        self._functions[full] = []  # reserved first: a recursive record refers to itself
        self._inlining.append(full)
        body = [f"def {function}(v, out):", "    a = out.append", *self._fields(schema, "v", "    ")]
        self._inlining.pop()
        self._functions[full] = body
        return function

    @staticmethod
    def _field_dict(v: str, d: str, pad: str) -> list[str]:
        """Lines setting ``d`` to the record ``v``'s fields: a model's are its __dict__
        (plain_models() decides that this is what it dumps); model classes seen are remembered, so
        the usual check is a set lookup, not isinstance."""
        return [
            f"{pad}{d} = type({v})",
            f"{pad}if {d} in _models: {d} = {v}.__dict__",
            f"{pad}elif {d} is dict: {d} = {v}",
            f"{pad}else: {d} = _fields_of({v})",
        ]

    def _fields(self, schema: dict[str, Any], v: str, pad: str) -> list[str]:
        d = self._temp()
        lines = self._field_dict(v, d, pad)
        for field in schema["fields"]:
            x = self._temp()
            lines.append(f"{pad}{x} = {d}[{field['name']!r}]")
            lines.extend(self.value(field["type"], x, pad))
        return lines

    def _amounts(self, schema: dict[str, Any]) -> list[str] | None:
        """For a record of decimals and strings with a decimal among them (``Money``): each field's
        kind ("decimal" or "string"); else None."""
        kinds = []
        for field in schema["fields"]:
            kind = field["type"]
            kind = self._named.get(kind, kind) if isinstance(kind, str) else kind
            if kind == "string" or kind == {"type": "string"}:
                kinds.append("string")
            elif isinstance(kind, dict) and (kind.get("type"), kind.get("logicalType")) == (
                "bytes",
                "decimal",
            ):
                kinds.append("decimal")
            else:
                return None
        return kinds if "decimal" in kinds else None

    def _amount(self, schema: dict[str, Any], kinds: list[str], x: str, pad: str) -> list[str]:
        """An amount (``Money``) through a memo of its encodings keyed by its field values: amounts
        repeat from record to record. A hit stands for the same bytes when the values are of the
        types written (``str``; ``Decimal`` with the exponent of the one written: equal decimals of
        one exponent have one encoding); anything else is encoded field by field (which raises
        where it must). The entry keeps the key, whose decimals were checked when written."""
        memo = self._amount_memos.get(schema["name"])
        if memo is None:  # one per record: every place it occurs encodes it alike
            memo = self._amount_memos[schema["name"]] = self._const({})
        d, key, hit, start = self._temp(), self._temp(), self._temp(), self._temp()
        values = [self._temp() for _ in kinds]
        checks = []
        for i, (kind, value) in enumerate(zip(kinds, values, strict=True)):
            if kind == "string":
                checks.append(f"type({value}) is str")
            else:
                stored = f"{hit}[0][{i}]"
                checks.append(
                    f"({value} is {stored} or (type({value}) is _Decimal and {value}.same_quantum({stored})))"
                )
        lines = self._field_dict(x, d, pad)
        for field, value in zip(schema["fields"], values, strict=True):
            lines.append(f"{pad}{value} = {d}[{field['name']!r}]")
        lines += [
            f"{pad}{key} = ({', '.join(values)},)",
            f"{pad}{hit} = {memo}.get({key})",
            f"{pad}if {hit} is not None and {' and '.join(checks)}: out += {hit}[1]",
            f"{pad}else:",
            f"{pad}    {start} = len(out)",
        ]
        for field, value in zip(schema["fields"], values, strict=True):
            lines.extend(self.value(field["type"], value, pad + "    "))
        lines += [
            f"{pad}    if len({memo}) >= {_MEMO_SIZE}: {memo}.clear()",
            f"{pad}    {memo}[{key}] = ({key}, bytes(out[{start}:]))",
        ]
        return lines

    def value(self, schema: Any, x: str, pad: str) -> list[str]:
        """Lines appending the encoding of the Python value in variable ``x`` to ``out``."""
        if isinstance(schema, str):
            if schema in self._named:
                return self.value(self._named[schema], x, pad)
            schema = {"type": schema}
        if isinstance(schema, list):
            return self._union(schema, x, pad)
        kind = schema["type"]
        logical = schema.get("logicalType")
        if logical is not None:
            return self._logical(kind, logical, schema, x, pad)
        if kind == "null":
            return [f"{pad}if {x} is not None: raise TypeError('not null')"]
        if kind == "boolean":
            return [
                f"{pad}if {x} is True: a(1)",
                f"{pad}elif {x} is False: a(0)",
                f"{pad}else: raise TypeError('not a bool')",
            ]
        if kind in ("int", "long"):
            low, high = _INT if kind == "int" else _LONG
            return [
                f"{pad}if type({x}) is not int or not {low} <= {x} <= {high}: raise TypeError('{kind}')",
                *self._varint(f"(({x} << 1) ^ ({x} >> 63))", pad),
            ]
        if kind in ("float", "double"):
            pack = self._const(struct.Struct("<f" if kind == "float" else "<d").pack)
            return [f"{pad}if type({x}) is not float: raise TypeError('{kind}')", f"{pad}out += {pack}({x})"]
        if kind == "string":
            return self._bytes(f"{x}.encode()", pad)
        if kind == "bytes":
            return [f"{pad}if type({x}) is not bytes: raise TypeError('bytes')", *self._bytes(x, pad)]
        if kind == "enum":
            table = self._const({symbol: _zigzag(i) for i, symbol in enumerate(schema["symbols"])})
            return [f"{pad}out += {table}[{x}]"]
        if kind == "record":
            if schema["name"] in self._inlining:  # recursive: a function calling itself
                return [f"{pad}{self.record(schema)}({x}, out)"]
            self._inlining.append(schema["name"])
            kinds = self._amounts(schema)
            lines = self._amount(schema, kinds, x, pad) if kinds else self._fields(schema, x, pad)
            self._inlining.pop()
            return lines
        if kind in ("array", "map"):
            return self._container(kind, schema, x, pad)
        raise UnsupportedSchemaError(f"type {kind}")

    def _varint(self, expression: str, pad: str) -> list[str]:
        z = self._temp()
        return [
            f"{pad}{z} = {expression}",
            f"{pad}while {z} > 127:",
            f"{pad}    a({z} & 127 | 128)",
            f"{pad}    {z} >>= 7",
            f"{pad}a({z})",
        ]

    def _bytes(self, expression: str, pad: str) -> list[str]:
        b = self._temp()
        return [f"{pad}{b} = {expression}", *self._varint(f"len({b}) << 1", pad), f"{pad}out += {b}"]

    def _container(self, kind: str, schema: dict[str, Any], x: str, pad: str) -> list[str]:
        # fastavro: a block count (when not empty), the items, a zero count.
        item = self._temp()
        if kind == "array":
            check = f"type({x}) is not list and type({x}) is not tuple"
            loop = f"for {item} in {x}:"
            inner = self.value(schema["items"], item, pad + "        ")
        else:
            key = self._temp()
            check = f"type({x}) is not dict"
            loop = f"for {key}, {item} in {x}.items():"
            inner = [
                *self._bytes(f"{key}.encode()", pad + "        "),
                *self.value(schema["values"], item, pad + "        "),
            ]
        return [
            f"{pad}if {check}: raise TypeError('{kind}')",
            f"{pad}if {x}:",
            *self._varint(f"len({x}) << 1", pad + "    "),
            f"{pad}    {loop}",
            *inner,
            f"{pad}a(0)",
        ]

    def _union(self, schema: list[Any], x: str, pad: str) -> list[str]:
        resolved = [self._named.get(b, b) if isinstance(b, str) else b for b in schema]
        nulls = [i for i, branch in enumerate(resolved) if branch == "null" or branch == {"type": "null"}]
        if len(schema) != 2 or len(nulls) != 1:
            raise UnsupportedSchemaError(f"union {schema}")  # fastavro chooses by validation: keep its choice
        null = nulls[0]
        other = 1 - null
        return [
            f"{pad}if {x} is None: a({null * 2})",
            f"{pad}else:",
            f"{pad}    a({other * 2})",
            *self.value(schema[other], x, pad + "    "),
        ]

    def _logical(self, kind: str, logical: str, schema: dict[str, Any], x: str, pad: str) -> list[str]:
        if (kind, logical) == ("string", "uuid"):
            return [f"{pad}if type({x}) is _UUID: {x} = str({x})", *self._bytes(f"{x}.encode()", pad)]
        if kind == "long" and logical in ("timestamp-millis", "timestamp-micros"):
            # fastavro: whole seconds since the epoch, then int(microseconds / 1000) (a floor here).
            t = self._temp()
            unit, part = (
                (1000, f"{t}.microseconds // 1000")
                if logical == "timestamp-millis"
                else (10**6, f"{t}.microseconds")
            )
            return [
                f"{pad}if type({x}) is not _datetime or {x}.tzinfo is None: raise TypeError('{logical}')",
                f"{pad}{t} = {x} - _EPOCH",
                f"{pad}{x} = ({t}.days * 86400 + {t}.seconds) * {unit} + {part}",
                f"{pad}if not {_LONG[0]} <= {x} <= {_LONG[1]}: raise OverflowError('{logical}')",
                *self._varint(f"(({x} << 1) ^ ({x} >> 63))", pad),
            ]
        if (kind, logical) == ("int", "date"):
            return [
                f"{pad}if type({x}) is not _date: raise TypeError('date')",
                f"{pad}{x} = {x}.toordinal() - {_EPOCH_DAYS}",
                *self._varint(f"(({x} << 1) ^ ({x} >> 63))", pad),
            ]
        if (kind, logical) == ("bytes", "decimal"):
            scale, precision = schema.get("scale", 0), schema["precision"]
            writer = self._decimals.get((precision, scale))
            if writer is None:
                writer = self._decimals[precision, scale] = self._const(_DecimalWriter(precision, scale))
            y = self._temp()
            return [
                f"{pad}if type({x}) is not _Decimal or not {x}.same_quantum({writer}.quantum):",
                f"{pad}    raise TypeError('decimal')",
                f"{pad}{y} = {writer}.memo.get({x})",
                f"{pad}out += {writer}.encode({x}) if {y} is None else {y}",
            ]
        raise UnsupportedSchemaError(f"logical type {logical} on {kind}")


_models: set[type] = set()  # pydantic model classes the encoders have read


def _fields_of(value: Any) -> dict[str, Any]:
    """The fields of a model the encoders have not read before (remembered), else a TypeError."""
    if not isinstance(value, BaseModel):
        raise TypeError(type(value).__name__)
    _models.add(type(value))
    fields: dict[str, Any] = value.__dict__
    return fields


def _native_codec(schema: Any, named: dict[str, Any]) -> Any | None:
    """The ``esb_native`` codec of the schema, or None: switched off, not built (or an older
    build without the codec), or a schema its plan does not cover."""
    if os.environ.get("ESB_NATIVE_AVRO", "").strip().lower() == "off":
        return None
    try:
        codec_type = getattr(importlib.import_module("esb_native"), "AvroSchemaCodec", None)
    except ImportError:
        return None
    if codec_type is None:
        return None
    try:
        return codec_type(schema, named, _models, _fields_of)
    except Exception:  # a schema outside its plan (ValueError) or any other failure: generated Python
        return None


def compile_encoder(schema: Any, named: dict[str, Any], *, native: bool = True) -> Encoder:
    """The encoder of a fastavro-parsed record ``schema`` (``named``: its ``__named_schemas``):
    the native one when available (``native=False``: the generated Python one)."""
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise UnsupportedSchemaError("only a record schema is compiled")
    codec = _native_codec(schema, named) if native else None
    if codec is not None and codec.writes:
        native_encoder: Encoder = codec.encode
        return native_encoder
    compiler = _Compiler(named)
    entry = compiler.record(schema)
    namespace: dict[str, Any] = {
        "_models": _models,
        "_fields_of": _fields_of,
        "_UUID": UUID,
        "_datetime": datetime,
        "_date": date,
        "_Decimal": Decimal,
        "_EPOCH": _EPOCH,
        **compiler.constants,
    }
    exec(compile(compiler.source(), f"<avro encoder {schema['name']}>", "exec"), namespace)  # noqa: S102
    encoder: Encoder = namespace[entry]
    return encoder


Decoder = Callable[[bytes, int], Any]
"""Reads the Avro body starting at an offset of the bytes; the value as fastavro reads it."""


def _varint_rest(b: bytes, p: int, n: int) -> tuple[int, int]:
    # The bytes after the first of a varint (the generated code reads one-byte varints itself).
    n &= 0x7F
    shift = 7
    while True:
        c = b[p]
        p += 1
        n |= (c & 0x7F) << shift
        if c < 0x80:
            return n, p
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


class _ReaderCompiler:
    """Python source reading a schema's values into what fastavro's reader returns: dicts for
    records, ``Decimal`` / tz-aware ``datetime`` / ``date`` / ``UUID`` for logical types."""

    def __init__(self, named: dict[str, Any]) -> None:
        self._named = named
        self._functions: dict[str, list[str]] = {}
        self._names: dict[str, str] = {}
        self.constants: dict[str, Any] = {}
        self._temps = 0
        self._inlining: list[str] = []
        self._decimals: dict[tuple[int, int], str] = {}  # (precision, scale) -> its _DecimalReader

    def source(self) -> str:
        return "\n".join(line for lines in self._functions.values() for line in lines)

    def _const(self, value: Any) -> str:
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name

    def _temp(self) -> str:
        self._temps += 1
        return f"x{self._temps}"

    def record(self, schema: dict[str, Any]) -> str:
        full = schema["name"]
        if full in self._names:
            return self._names[full]
        function = f"r{len(self._names)}"
        self._names[full] = function
        self._functions[full] = []
        self._inlining.append(full)
        result = self._temp()
        body = [f"def {function}(b, p):", *self._fields(schema, result, "    "), f"    return {result}, p"]
        self._inlining.pop()
        self._functions[full] = body
        return function

    def _fields(self, schema: dict[str, Any], result: str, pad: str) -> list[str]:
        lines: list[str] = []
        items = []
        for field in schema["fields"]:
            x = self._temp()
            lines.extend(self.value(field["type"], x, pad))
            items.append(f"{field['name']!r}: {x}")
        lines.append(f"{pad}{result} = {{{', '.join(items)}}}")
        return lines

    def _long(self, x: str, pad: str) -> list[str]:
        return [
            f"{pad}{x} = b[p]",
            f"{pad}p += 1",
            f"{pad}if {x} > 127: {x}, p = _varint_rest(b, p, {x})",
            f"{pad}{x} = ({x} >> 1) ^ -({x} & 1)",
        ]

    def _raw(self, x: str, pad: str) -> list[str]:
        """``x`` = the next length-prefixed bytes."""
        n = self._temp()
        return [
            *self._long(n, pad),
            f"{pad}if {n} < 0 or p + {n} > len(b): raise EOFError('truncated bytes')",
            f"{pad}{x} = b[p:p + {n}]",
            f"{pad}p += {n}",
        ]

    def value(self, schema: Any, x: str, pad: str) -> list[str]:
        """Lines reading the next value of ``schema`` into variable ``x``."""
        if isinstance(schema, str):
            if schema in self._named:
                return self.value(self._named[schema], x, pad)
            schema = {"type": schema}
        if isinstance(schema, list):
            return self._union(schema, x, pad)
        kind = schema["type"]
        logical = schema.get("logicalType")
        if logical is not None:
            return self._logical(kind, logical, schema, x, pad)
        if kind == "null":
            return [f"{pad}{x} = None"]
        if kind == "boolean":
            return [f"{pad}{x} = b[p] != 0", f"{pad}p += 1"]
        if kind in ("int", "long"):
            return self._long(x, pad)
        if kind in ("float", "double"):
            unpack = self._const(struct.Struct("<f" if kind == "float" else "<d").unpack_from)
            return [f"{pad}{x} = {unpack}(b, p)[0]", f"{pad}p += {4 if kind == 'float' else 8}"]
        if kind == "string":
            return [*self._raw(x, pad), f"{pad}{x} = {x}.decode()"]
        if kind == "bytes":
            return [*self._raw(x, pad), f"{pad}{x} = bytes({x})"]
        if kind == "enum":
            symbols = self._const(tuple(schema["symbols"]))
            return [
                *self._long(x, pad),
                f"{pad}if {x} < 0: raise IndexError('enum index')",
                f"{pad}{x} = {symbols}[{x}]",
            ]
        if kind == "record":
            if schema["name"] in self._inlining:
                return [f"{pad}{x}, p = {self.record(schema)}(b, p)"]
            self._inlining.append(schema["name"])
            lines = self._fields(schema, x, pad)
            self._inlining.pop()
            return lines
        if kind in ("array", "map"):
            return self._container(kind, schema, x, pad)
        raise UnsupportedSchemaError(f"type {kind}")

    def _container(self, kind: str, schema: dict[str, Any], x: str, pad: str) -> list[str]:
        # Blocks of items, each a count (negative: followed by the block's byte size), then 0.
        n, item, size = self._temp(), self._temp(), self._temp()
        inner = pad + "        "
        if kind == "array":
            body = [*self.value(schema["items"], item, inner), f"{inner}{x}.append({item})"]
        else:
            key = self._temp()
            body = [
                *self._raw(key, inner),
                f"{inner}{key} = {key}.decode()",
                *self.value(schema["values"], item, inner),
                f"{inner}{x}[{key}] = {item}",
            ]
        return [
            f"{pad}{x} = {'[]' if kind == 'array' else '{}'}",
            *self._long(n, pad),
            f"{pad}while {n}:",
            f"{pad}    if {n} < 0:",
            f"{pad}        {n} = -{n}",
            *self._long(size, pad + "        "),
            f"{pad}    for _ in range({n}):",
            *body,
            *self._long(n, pad + "    "),
        ]

    def _union(self, schema: list[Any], x: str, pad: str) -> list[str]:
        index = self._temp()
        lines = self._long(index, pad)
        for i, branch in enumerate(schema):
            lines.append(f"{pad}{'if' if i == 0 else 'elif'} {index} == {i}:")
            lines.extend(self.value(branch, x, pad + "    "))
        lines.append(f"{pad}else: raise IndexError('union index')")
        return lines

    def _logical(self, kind: str, logical: str, schema: dict[str, Any], x: str, pad: str) -> list[str]:
        # What fastavro's logical readers return, computed the same way.
        if (kind, logical) == ("string", "uuid"):
            return [*self._raw(x, pad), f"{pad}{x} = _UUID({x}.decode())"]
        if (kind, logical) == ("long", "timestamp-millis"):
            return [*self._long(x, pad), f"{pad}{x} = _EPOCH + _timedelta(0, 0, 0, {x})"]  # milliseconds
        if (kind, logical) == ("long", "timestamp-micros"):
            return [*self._long(x, pad), f"{pad}{x} = _EPOCH + _timedelta(0, 0, {x})"]  # microseconds
        if (kind, logical) == ("int", "date"):
            return [*self._long(x, pad), f"{pad}{x} = _date.fromordinal({x} + {_EPOCH_DAYS})"]
        if (kind, logical) == ("bytes", "decimal"):
            key = (schema["precision"], schema.get("scale", 0))
            reader = self._decimals.get(key)
            if reader is None:
                reader = self._decimals[key] = self._const(_DecimalReader(*key))
            raw = self._temp()
            return [
                *self._raw(raw, pad),
                f"{pad}{x} = {reader}.memo.get({raw})",
                f"{pad}if {x} is None: {x} = {reader}.decode({raw})",
            ]
        raise UnsupportedSchemaError(f"logical type {logical} on {kind}")


def compile_decoder(schema: Any, named: dict[str, Any], *, native: bool = True) -> Decoder:
    """The decoder of a fastavro-parsed record ``schema`` read with itself as the reader schema:
    the native one when available (``native=False``: the generated Python one)."""
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise UnsupportedSchemaError("only a record schema is compiled")
    codec = _native_codec(schema, named) if native else None
    if codec is not None:
        native_decoder: Decoder = codec.decode
        return native_decoder
    compiler = _ReaderCompiler(named)
    entry = compiler.record(schema)
    namespace: dict[str, Any] = {
        "_UUID": UUID,
        "_date": date,
        "_timedelta": timedelta,
        "_EPOCH": _EPOCH,
        "_varint_rest": _varint_rest,
        **compiler.constants,
    }
    exec(compile(compiler.source(), f"<avro decoder {schema['name']}>", "exec"), namespace)  # noqa: S102
    read: Callable[[bytes, int], tuple[Any, int]] = namespace[entry]

    def decode(data: bytes, offset: int) -> Any:
        value, end = read(data, offset)
        if end > len(data):
            raise EOFError("truncated record")
        return value

    return decode
