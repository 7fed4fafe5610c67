"""Registering canonical schemas in a Confluent-API registry, and checking them against it.

Production services never auto-register (``SchemaRegistrySettings.auto_register`` defaults to off):
``esb schemas register`` is the one place schemas enter the registry, after ``esb schemas check``.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from esb.governance.catalog import Catalog
from schemas.loader import schema_text

__all__ = [
    "COMPATIBILITY_LEVEL",
    "IncompatibleSchemaError",
    "Registered",
    "check_against_registry",
    "register_catalog",
]

COMPATIBILITY_LEVEL = "FULL_TRANSITIVE"
_NOT_FOUND = 404


class IncompatibleSchemaError(Exception):
    """The registry refused a schema as incompatible: fix the schema, nothing was registered."""


@dataclass(frozen=True, slots=True)
class Registered:
    subject: str
    schema_id: int


def _avro_topics(catalog: Catalog) -> list[tuple[str, str]]:
    return [topic.avro_value() for topic in catalog.avro_topics()]


def _subject_exists(client: SchemaRegistryClient, subject: str) -> bool:
    try:
        client.get_latest_version(subject)
    except SchemaRegistryError as error:
        if error.http_status_code == _NOT_FOUND:
            return False
        raise
    return True


def check_against_registry(client: SchemaRegistryClient, catalog: Catalog) -> list[str]:
    """Ask the registry whether each working schema is compatible with every registered version."""
    problems = []
    for subject, record in _avro_topics(catalog):
        if not _subject_exists(client, subject):
            continue
        schema = Schema(schema_text(record), "AVRO")
        if not client.test_compatibility_all_versions(subject, schema):
            problems.append(f"{subject}: the registry finds {record} incompatible with registered versions")
    return problems


def register_catalog(client: SchemaRegistryClient, catalog: Catalog) -> list[Registered]:
    """Register every canonical value schema (idempotent) and pin each subject to FULL_TRANSITIVE."""
    problems = check_against_registry(client, catalog)
    if problems:
        raise IncompatibleSchemaError("; ".join(problems))
    registered = []
    for subject, record in _avro_topics(catalog):
        schema_id = client.register_schema(subject, Schema(schema_text(record), "AVRO"))
        client.set_compatibility(subject, COMPATIBILITY_LEVEL)
        registered.append(Registered(subject, schema_id))
    return registered
