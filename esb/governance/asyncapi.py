"""The AsyncAPI 3.0 document of the bus, generated from the topic catalog and the Avro schemas.

One channel per topic (Kafka bindings carry partitions, replicas and topic configs), one message per
value type (Avro payloads embed the expanded schema), one ``send`` operation for the owning service
and one ``receive`` operation per consuming service.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT7

from esb.governance.catalog import Catalog, TopicSpec
from schemas.loader import load_avsc

__all__ = ["ASYNCAPI_SCHEMA_PATH", "build_document", "validate_document"]

ASYNCAPI_SCHEMA_PATH = Path(__file__).resolve().parent / "vendor" / "asyncapi" / "asyncapi-3.0.0.schema.json"
_AVRO_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
_KAFKA_BINDING = "0.5.0"


def _with_namespaces(schema: Any) -> Any:
    """Full names -> ``name`` + ``namespace``: the AsyncAPI Avro schema only accepts simple names."""
    if isinstance(schema, list):
        return [_with_namespaces(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: _with_namespaces(value) for key, value in schema.items()}
    if schema.get("type") in ("record", "enum", "fixed") and "." in schema.get("name", ""):
        result["namespace"], _, result["name"] = schema["name"].rpartition(".")
    return result


def _message_id(topic: TopicSpec) -> str:
    return topic.value.avro.rsplit(".", 1)[-1] if topic.value.avro else f"{topic.name}.raw"


def _message(topic: TopicSpec) -> dict[str, Any]:
    key_binding = {"key": {"type": "string", "description": topic.key.description}}
    if topic.value.avro is not None:
        return {
            "name": _message_id(topic),
            "title": topic.value.avro,
            "contentType": "application/vnd.apache.avro+binary",
            "description": "Confluent wire format: magic byte, 4-byte schema id, Avro binary body.",
            "payload": {
                "schemaFormat": _AVRO_FORMAT,
                "schema": _with_namespaces(load_avsc(topic.value.avro)),
            },
            "bindings": {
                "kafka": {
                    **key_binding,
                    "schemaIdLocation": "payload",
                    "schemaIdPayloadEncoding": "confluent",
                    "schemaLookupStrategy": "TopicNameStrategy",
                    "bindingVersion": _KAFKA_BINDING,
                }
            },
        }
    return {
        "name": _message_id(topic),
        "contentType": topic.value.format,
        "description": "Native bytes, not registry-encoded; see the channel for the provenance headers.",
        "payload": {"type": "string", "format": "binary"},
        "bindings": {"kafka": {**key_binding, "bindingVersion": _KAFKA_BINDING}},
    }


def _channel(catalog: Catalog, topic: TopicSpec) -> dict[str, Any]:
    config = catalog.topic_config(topic)
    consumers = ", ".join(topic.consumers) or "none"
    topic_configuration: dict[str, Any] = {"cleanup.policy": config["cleanup.policy"].split(",")}
    if "retention.ms" in config:
        topic_configuration["retention.ms"] = int(config["retention.ms"])
    return {
        "address": topic.name,
        "title": topic.name,
        "description": f"{topic.description}\n\nOwner: {topic.owner}. Consumers: {consumers}.",
        "messages": {_message_id(topic): {"$ref": f"#/components/messages/{_message_id(topic)}"}},
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "partitions": catalog.partitions(topic),
                "replicas": catalog.replication_factor(topic),
                "topicConfiguration": topic_configuration,
                "bindingVersion": _KAFKA_BINDING,
            }
        },
    }


def _operation(topic: TopicSpec, service: str, action: str) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{topic.name}"},
        "messages": [{"$ref": f"#/channels/{topic.name}/messages/{_message_id(topic)}"}],
        "tags": [{"name": service}],
    }


def build_document(catalog: Catalog, *, version: str = "1.0.0") -> dict[str, Any]:
    channels = {topic.name: _channel(catalog, topic) for topic in catalog.topics}
    messages = {_message_id(topic): _message(topic) for topic in catalog.topics}
    operations: dict[str, Any] = {}
    for topic in catalog.topics:
        operations[f"{topic.owner}.send.{topic.name}"] = _operation(topic, topic.owner, "send")
        for consumer in topic.consumers:
            operations[f"{consumer}.receive.{topic.name}"] = _operation(topic, consumer, "receive")
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Commerce integration bus",
            "version": version,
            "description": (
                "Every topic of the bus. Canonical topics carry Avro in the Confluent wire format; read them "
                "with any Confluent Avro deserializer and the schema registry URL. Keys are UTF-8 strings."
            ),
        },
        "servers": {
            "kafka": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "The bootstrap servers of your environment.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(ASYNCAPI_SCHEMA_PATH.read_text(encoding="utf-8"))
    # The bundle embeds every definition under its own $id: register them so no ref goes to the network.
    draft = DRAFT7 if "draft-07" in schema["$schema"] else DRAFT4
    resources = [
        (d["$id"], Resource.from_contents(d, default_specification=draft))
        for d in schema["definitions"].values()
        if "$id" in d
    ]
    registry: Registry[Any] = Registry().with_resources(resources)
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema, registry=registry)


def validate_document(document: dict[str, Any]) -> list[str]:
    """Violations of the official AsyncAPI 3.0.0 JSON schema, as readable strings (empty when valid)."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]
