"""Serde: typed Python models in and out of Kafka bytes.

A service declares *codecs* (what a topic carries); the runtime *binds* them to a schema registry
client in ``main()``. :class:`AvroCodec` uses confluent-kafka's ``AvroSerializer`` /
``AvroDeserializer`` (Confluent wire format: magic byte + schema id + Avro body) with a pydantic
model on the Python side; the mapping to and from dicts is kept apart from the Avro encoding. Unit
tests bind the same codec to ``mock://`` (confluent-kafka's in-memory registry), so the code path
is the production one without a server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext
from pydantic import BaseModel

from bus.config import SchemaRegistrySettings
from bus.errors import FatalError, SerdeError

__all__ = [
    "AvroCodec",
    "BoundCodec",
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


def registry_client(settings: SchemaRegistrySettings) -> SchemaRegistryClient:
    """A registry client; ``mock://...`` URLs give confluent-kafka's in-memory registry."""
    client: SchemaRegistryClient = SchemaRegistryClient.new_client(settings.client_config())
    return client


@dataclass(frozen=True, slots=True)
class AvroCodec:
    """Avro in the Confluent wire format, values as instances of a pydantic ``model``."""

    model: type[BaseModel]
    schema: str

    def bind(self, registry: SchemaRegistryClient | None, *, auto_register: bool) -> BoundCodec:
        if registry is None:
            raise ValueError("AvroCodec needs a schema registry client")
        return _BoundAvro(self.model, self.schema, registry, auto_register)


class _BoundAvro:
    __slots__ = ("_deserializer", "_model", "_serializer")

    def __init__(
        self, model: type[BaseModel], schema: str, registry: SchemaRegistryClient, auto_register: bool
    ) -> None:
        self._model = model

        def to_dict(value: object, _ctx: SerializationContext) -> dict[str, Any]:
            if not isinstance(value, model):
                raise SerdeError(f"expected {model.__name__}, got {type(value).__name__}")
            return value.model_dump()

        def from_dict(data: dict[str, Any], _ctx: SerializationContext) -> BaseModel:
            return model.model_validate(data)

        # Without auto-registration the serializer looks up the id of exactly this schema, so a
        # service fails loudly (SerdeError -> dead letter) if its schema was never released.
        conf: dict[str, Any] = {"auto.register.schemas": auto_register}
        self._serializer = AvroSerializer(registry, schema, to_dict, conf)
        self._deserializer = AvroDeserializer(registry, schema, from_dict)

    def encode(self, value: Any, topic: str) -> bytes:
        try:
            data = self._serializer(value, SerializationContext(topic, MessageField.VALUE))
        except SerdeError:
            raise
        except (SchemaRegistryError, httpx.HTTPError, OSError) as exc:
            # Our own schema is unknown to the registry, or the registry is unreachable: no record
            # is at fault, so none is dead-lettered; the process stops and is restarted.
            raise FatalError(f"schema registry, encoding for {topic}: {exc}") from exc
        except Exception as exc:
            raise SerdeError(f"cannot encode {type(value).__name__} for {topic}: {exc}") from exc
        if data is None:
            raise SerdeError("refusing to encode None")
        return bytes(data)

    def decode(self, data: bytes, topic: str) -> Any:
        try:
            value = self._deserializer(data, SerializationContext(topic, MessageField.VALUE))
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:  # the record names a schema id nobody registered
                raise SerdeError(f"unknown writer schema on {topic}: {exc}") from exc
            raise FatalError(f"schema registry, decoding {topic}: {exc}") from exc
        except (httpx.HTTPError, OSError) as exc:
            raise FatalError(f"schema registry unreachable, decoding {topic}: {exc}") from exc
        except Exception as exc:
            raise SerdeError(f"cannot decode Avro from {topic}: {type(exc).__name__}: {exc}") from exc
        if value is None:
            raise SerdeError(f"empty value on {topic}")
        return value


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
