"""Serde: typed Python models in and out of Kafka bytes.

A service declares *codecs* (what a topic carries); the runtime *binds* them to a schema registry
client in ``main()``. :class:`AvroCodec` writes and reads the Confluent wire format (magic byte +
schema id + Avro body) with fastavro and confluent-kafka's registry client, byte for byte what
confluent-kafka's ``AvroSerializer`` / ``AvroDeserializer`` do, with a pydantic model on the
Python side; the mapping to and from dicts is kept apart from the Avro encoding. Unit
tests bind the same codec to ``mock://`` (confluent-kafka's in-memory registry), so the code path
is the production one without a server.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import msgspec
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from pydantic import BaseModel

from bus.avro_fast import (
    Decoder,
    Encoder,
    UnsupportedSchemaError,
    compile_decoder,
    compile_encoder,
    plain_models,
)
from bus.config import SchemaRegistrySettings
from bus.errors import FatalError, SerdeError

__all__ = [
    "AvroBody",
    "AvroCodec",
    "BoundCodec",
    "Builder",
    "BytesCodec",
    "Codec",
    "JsonCodec",
    "SerdeError",
    "registry_client",
]


class BoundCodec(Protocol):
    def encode(self, value: Any, topic: str) -> bytes: ...

    def decode(self, data: bytes, topic: str) -> Any: ...


class Codec(Protocol):
    """A declaration of what a topic carries, bound to a registry client by the runtime."""

    def bind(self, registry: SchemaRegistryClient | None, *, auto_register: bool) -> BoundCodec: ...


_WIRE_HEADER = struct.Struct(">bI")  # magic byte 0, schema id


class AvroBody(msgspec.Struct, frozen=True):
    """A value whose Avro body is already written, for ``model``'s schema: what a compiled fast path
    (``esb_native``) emits instead of the model. :class:`AvroCodec` adds the wire header only.

    The writer vouches for the bytes: a fast path is held byte for byte to the encoder of the model
    it stands for by its differential tests, and declines what it does not reproduce.
    """

    model: type[BaseModel]
    body: bytes


def registry_client(settings: SchemaRegistrySettings) -> SchemaRegistryClient:
    """A registry client; ``mock://...`` URLs give confluent-kafka's in-memory registry."""
    client: SchemaRegistryClient = SchemaRegistryClient.new_client(settings.client_config())
    return client


Builder = Callable[[dict[str, Any]], BaseModel | None]
"""Builds the model from a record read with the codec's own schema, without validating it again;
None to have it validated."""


@dataclass(frozen=True, slots=True)
class AvroCodec:
    """Avro in the Confluent wire format, values as instances of a pydantic ``model``.

    ``build``: for a hot input, the model made from the values a record written with the codec's own
    schema reads as (strings, longs, ``UUID``, UTC instants at millisecond precision: what
    validation would return unchanged), skipping ``model_validate``. It returns None to have the
    record validated instead, and must not change the values it was given when it does; if it
    raises, the record is read again and validated, so validation reports what is wrong with it.
    """

    model: type[BaseModel]
    schema: str
    build: Builder | None = None

    def bind(self, registry: SchemaRegistryClient | None, *, auto_register: bool) -> BoundCodec:
        if registry is None:
            raise ValueError("AvroCodec needs a schema registry client")
        return _BoundAvro(self.model, self.schema, registry, auto_register, self.build)


class _BoundAvro:
    """Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro body).

    The per-record path used to be confluent-kafka's ``AvroSerializer`` / ``AvroDeserializer``.
    They are correct but redo per-schema work on every record (the deserializer expands the reader
    schema and collects its inline tags for rules we do not use; both build a subject name and
    walk rule executors). Here the per-schema work is done once:

    - encode: the schema id comes from the registry client once per topic (registered with
      ``auto_register``, else looked up: an unreleased schema is fatal, as before); the body is
      written by the encoder :mod:`bus.avro_fast` compiled for the schema at bind time, straight
      from the model's fields. A value it does not handle (or a schema it does not compile) is
      written by fastavro instead, from ``model_dump()`` with its union records in fastavro's
      ``(name, record)`` notation (the branch its validation would pick, without the validation);
    - decode: the writer schema of each id is fetched (the client caches it) and parsed once;
      records written with our own schema are read by the compiled decoder (fastavro when it
      fails, so fastavro decides what is malformed), others by fastavro with schema resolution.

    Bytes and values are fastavro's, so confluent-kafka's (``tests/integration/runtime/
    test_serde_registry.py`` checks them against its serdes on the real registry,
    ``tests/unit/runtime/test_serde_compiled.py`` against fastavro on generated canonical records);
    a writer schema with references, or another magic byte, still goes through confluent-kafka's
    ``AvroDeserializer``. Per record on the 2-core dev VM, see benchmarks/README.md.
    """

    __slots__ = (
        "_annotate",
        "_auto_register",
        "_build",
        "_decoder",
        "_encoder",
        "_fallback",
        "_headers",
        "_model",
        "_parsed",
        "_plain",
        "_readers",
        "_registry",
        "_schema",
    )

    def __init__(
        self,
        model: type[BaseModel],
        schema: str,
        registry: SchemaRegistryClient,
        auto_register: bool,
        build: Builder | None = None,
    ) -> None:
        self._model = model
        self._build = build
        self._registry = registry
        self._auto_register = auto_register
        self._schema = Schema(schema, "AVRO")
        parsed: Any = parse_schema(json.loads(schema))
        self._parsed = parsed
        named = parsed.get("__named_schemas", {})
        self._annotate = _union_annotator(parsed, named)
        self._encoder: Encoder | None
        self._decoder: Decoder | None
        try:
            self._encoder, self._decoder = compile_encoder(parsed, named), compile_decoder(parsed, named)
        except UnsupportedSchemaError:
            self._encoder = self._decoder = None
        self._plain = plain_models(model)  # model_dump() is the fields as stored
        self._headers: dict[str, bytes] = {}  # topic -> magic byte + schema id
        # writer id -> (writer, reader or None, compiled decoder or None)
        self._readers: dict[int, tuple[Any, Any, Decoder | None]] = {}

        def from_dict(data: dict[str, Any], _ctx: SerializationContext) -> BaseModel:
            return model.model_validate(data)

        self._fallback = AvroDeserializer(registry, schema, from_dict)

    def encode(self, value: Any, topic: str) -> bytes:
        if type(value) is AvroBody and value.model is self._model:
            return (self._headers.get(topic) or self._header(topic)) + value.body
        if not isinstance(value, self._model):
            raise SerdeError(f"expected {self._model.__name__}, got {type(value).__name__}")
        header = self._headers.get(topic) or self._header(topic)
        if self._encoder is not None:
            out = bytearray(header)
            try:
                self._encoder(value if self._plain else value.model_dump(), out)
                return bytes(out)
            except Exception:  # noqa: S110 - fastavro below writes it or raises its own error
                pass
        body = io.BytesIO()
        body.write(header)
        try:
            data = value.model_dump()
            schemaless_writer(body, self._parsed, self._annotate(data) if self._annotate else data)
        except Exception as exc:
            raise SerdeError(f"cannot encode {type(value).__name__} for {topic}: {exc}") from exc
        return body.getvalue()

    def _header(self, topic: str) -> bytes:
        # Without auto-registration the id of exactly this schema is looked up, so a service fails
        # loudly if its schema was never released (no record is at fault: the process stops).
        subject = f"{topic}-value"  # confluent-kafka's default TopicNameStrategy
        schema_id: int | None
        try:
            if self._auto_register:
                schema_id = self._registry.register_schema(subject, self._schema)
            else:
                schema_id = self._registry.lookup_schema(subject, self._schema).schema_id
        except (SchemaRegistryError, httpx.HTTPError, OSError) as exc:
            raise FatalError(f"schema registry, encoding for {topic}: {exc}") from exc
        if schema_id is None:
            raise FatalError(f"schema registry, encoding for {topic}: no schema id")
        header = _WIRE_HEADER.pack(0, schema_id)
        self._headers[topic] = header
        return header

    def decode(self, data: bytes, topic: str) -> Any:
        try:
            if len(data) <= _WIRE_HEADER.size or data[0] != 0:
                return self._confluent(data, topic)
            schema_id = _WIRE_HEADER.unpack_from(data)[1]
            schemas = self._readers.get(schema_id) or self._reader(schema_id)
            if schemas[0] is None:  # a writer schema with references: confluent-kafka resolves them
                return self._confluent(data, topic)
            read = self._read(data, schemas)
            if self._build is not None and schemas[1] is None:  # read with our own schema
                try:
                    value = self._build(read)
                except Exception:  # validation decides, from a fresh read
                    value, read = None, self._read(data, schemas)
                if value is not None:
                    return value
            value = self._model.model_validate(read)
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:  # the record names a schema id nobody registered
                raise SerdeError(f"unknown writer schema on {topic}: {exc}") from exc
            raise FatalError(f"schema registry, decoding {topic}: {exc}") from exc
        except (httpx.HTTPError, OSError) as exc:
            raise FatalError(f"schema registry unreachable, decoding {topic}: {exc}") from exc
        except SerdeError:
            raise
        except Exception as exc:
            raise SerdeError(f"cannot decode Avro from {topic}: {type(exc).__name__}: {exc}") from exc
        return value

    @staticmethod
    def _read(data: bytes, schemas: tuple[Any, Any, Decoder | None]) -> Any:
        if schemas[2] is not None:
            try:
                return schemas[2](data, _WIRE_HEADER.size)
            except Exception:  # noqa: S110 - fastavro below reads it or raises its own error
                pass
        body = io.BytesIO(data)
        body.seek(_WIRE_HEADER.size)
        return schemaless_reader(body, schemas[0], schemas[1])

    def _reader(self, schema_id: int) -> tuple[Any, Any, Decoder | None]:
        writer = self._registry.get_schema(schema_id)
        if writer.references or writer.schema_str is None:
            schemas: tuple[Any, Any, Decoder | None] = (None, None, None)
        elif writer.schema_type not in (None, "AVRO"):
            raise SerdeError(f"schema {schema_id} is {writer.schema_type}, not Avro")
        else:
            parsed = parse_schema(json.loads(writer.schema_str))
            same = parsed == self._parsed  # written with our own schema: no resolution needed
            schemas = (parsed, None, self._decoder) if same else (parsed, self._parsed, None)
        self._readers[schema_id] = schemas
        return schemas

    def _confluent(self, data: bytes, topic: str) -> Any:
        value = self._fallback(data, SerializationContext(topic, MessageField.VALUE))
        if value is None:
            raise SerdeError(f"empty value on {topic}")
        return value


Annotator = Callable[[Any], Any]


def _union_annotator(schema: Any, named: dict[str, Any]) -> Annotator | None:
    """A function putting the records inside unions of ``schema`` in fastavro's ``(name, record)``
    notation, or None when the schema has no such union. fastavro otherwise chooses a union's
    branch by validating the value against each branch, the whole nested record each time."""
    if isinstance(schema, str):
        return _union_annotator(named[schema], named) if schema in named else None
    if isinstance(schema, list):
        resolved = [named.get(branch, branch) if isinstance(branch, str) else branch for branch in schema]
        records = [
            branch for branch in resolved if isinstance(branch, dict) and branch.get("type") == "record"
        ]
        maps = [branch for branch in resolved if isinstance(branch, dict) and branch.get("type") == "map"]
        if len(records) != 1 or maps:
            return None  # no record, several, or a map a dict could also be: fastavro chooses
        name, inner = records[0]["name"], _union_annotator(records[0], named)

        def union(value: Any) -> Any:
            if isinstance(value, dict):
                return (name, inner(value) if inner is not None else value)
            return value

        return union
    kind = schema.get("type")
    if kind == "record":
        fields = [(field["name"], _union_annotator(field["type"], named)) for field in schema["fields"]]
        annotated = [(field, fn) for field, fn in fields if fn is not None]
        if not annotated:
            return None

        def record(value: Any) -> Any:
            value = dict(value)
            for field, fn in annotated:
                if field in value:
                    value[field] = fn(value[field])
            return value

        return record
    if kind in ("array", "map"):
        item = _union_annotator(schema["items" if kind == "array" else "values"], named)
        if item is None:
            return None
        if kind == "array":
            return lambda value: [item(element) for element in value]
        return lambda value: {key: item(element) for key, element in value.items()}
    return None


@dataclass(frozen=True, slots=True)
class JsonCodec:
    """UTF-8 JSON mapped to a pydantic model; for native documents and tests without a registry."""

    model: type[BaseModel]

    def bind(self, registry: SchemaRegistryClient | None, *, auto_register: bool) -> BoundCodec:
        return _BoundJson(self.model)


class _BoundJson:
    __slots__ = ("_model",)

    def __init__(self, model: type[BaseModel]) -> None:
        self._model = model

    def encode(self, value: Any, topic: str) -> bytes:
        if not isinstance(value, self._model):
            raise SerdeError(f"expected {self._model.__name__}, got {type(value).__name__}")
        return value.model_dump_json().encode()

    def decode(self, data: bytes, topic: str) -> Any:
        try:
            return self._model.model_validate_json(data)
        except (ValueError, json.JSONDecodeError) as exc:
            raise SerdeError(f"cannot decode JSON from {topic}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class BytesCodec:
    """The raw bytes, untouched (ingress topics, pass-through benchmarks)."""

    def bind(self, registry: SchemaRegistryClient | None, *, auto_register: bool) -> BoundCodec:
        return _BoundBytes()


class _BoundBytes:
    __slots__ = ()

    def encode(self, value: Any, topic: str) -> bytes:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise SerdeError(f"expected bytes, got {type(value).__name__}")
        return bytes(value)

    def decode(self, data: bytes, topic: str) -> Any:
        return data
