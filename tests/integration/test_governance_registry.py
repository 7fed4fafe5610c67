"""``esb schemas register`` and the registry's own compatibility API (Apicurio's Confluent API)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from esb.governance.catalog import Catalog, load_catalog
from esb.governance.registry import (
    COMPATIBILITY_LEVEL,
    IncompatibleSchemaError,
    check_against_registry,
    register_catalog,
)
from schemas.loader import load_avsc

pytestmark = pytest.mark.integration

_ORDERS = "com.esb.canonical.orders.OrderEvent"


@pytest.fixture
def registry(schema_registry_conf: dict[str, str]) -> SchemaRegistryClient:
    return SchemaRegistryClient(schema_registry_conf)


@pytest.fixture
def catalog(registry: SchemaRegistryClient, unique_name: Callable[[str], str]) -> Iterator[Catalog]:
    scoped = load_catalog().for_environment(prefix=unique_name("reg") + ".")
    yield scoped
    for topic in scoped.avro_topics():
        subject, _ = topic.avro_value()
        with contextlib.suppress(SchemaRegistryError):
            registry.delete_subject(subject)
            registry.delete_subject(subject, permanent=True)


def test_register_is_idempotent_and_pins_full_transitive(
    registry: SchemaRegistryClient, catalog: Catalog
) -> None:
    first = register_catalog(registry, catalog)
    assert len(first) == len(catalog.avro_topics())
    assert register_catalog(registry, catalog) == first
    subject = first[0].subject
    assert registry.get_compatibility(subject) == COMPATIBILITY_LEVEL
    assert len(registry.get_versions(subject)) == 1
    assert check_against_registry(registry, catalog) == []


@pytest.mark.parametrize(
    "mutation",
    ["remove-required", "change-type", "add-without-default"],
)
def test_registry_rejects_breaking_changes(
    registry: SchemaRegistryClient, catalog: Catalog, mutation: str
) -> None:
    register_catalog(registry, catalog)
    subject = next(t for t in catalog.avro_topics() if t.value.avro == _ORDERS).avro_value()[0]
    schema = load_avsc(_ORDERS)
    if mutation == "remove-required":
        schema["fields"] = [f for f in schema["fields"] if f["name"] != "change"]
    elif mutation == "change-type":
        schema["fields"][1]["type"] = "string"
    else:
        schema["fields"].append({"name": "priority", "type": "long"})
    assert not registry.test_compatibility_all_versions(subject, Schema(json.dumps(schema), "AVRO"))


def test_register_refuses_a_subject_the_working_schema_breaks(
    registry: SchemaRegistryClient, catalog: Catalog
) -> None:
    """An older registered version with a field the working schema lacks: FORWARD fails, nothing registers."""
    subject = next(t for t in catalog.avro_topics() if t.value.avro == _ORDERS).avro_value()[0]
    older = load_avsc(_ORDERS)
    older["fields"].append({"name": "legacy_channel", "type": "string"})
    registry.register_schema(subject, Schema(json.dumps(older), "AVRO"))
    registry.set_compatibility(subject, COMPATIBILITY_LEVEL)
    with pytest.raises(IncompatibleSchemaError, match="orders"):
        register_catalog(registry, catalog)
    assert len(registry.get_versions(subject)) == 1
