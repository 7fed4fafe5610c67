"""The AsyncAPI document is valid AsyncAPI 3.0, complete, and the committed copy is current."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from esb.governance.asyncapi import build_document, validate_document
from esb.governance.catalog import load_catalog
from schemas.loader import load_avsc

pytestmark = pytest.mark.contract

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"


def test_generated_document_is_valid_asyncapi_3() -> None:
    assert validate_document(build_document(load_catalog())) == []


def test_validation_rejects_a_broken_document() -> None:
    document = build_document(load_catalog())
    broken = copy.deepcopy(document)
    broken["channels"]["canonical.orders.v1"]["bindings"]["kafka"]["partitions"] = "twelve"
    del broken["info"]["title"]
    assert len(validate_document(broken)) >= 2


def test_every_topic_is_a_channel_with_its_owner_and_consumers() -> None:
    catalog = load_catalog()
    document = build_document(catalog)
    assert set(document["channels"]) == {t.name for t in catalog.topics}
    for topic in catalog.topics:
        assert f"{topic.owner}.send.{topic.name}" in document["operations"]
        for consumer in topic.consumers:
            assert document["operations"][f"{consumer}.receive.{topic.name}"]["action"] == "receive"


def test_avro_payloads_are_the_registered_schemas() -> None:
    catalog = load_catalog()
    messages = build_document(catalog)["components"]["messages"]
    for topic in catalog.avro_topics():
        _subject, record = topic.avro_value()
        schema = messages[record.rsplit(".", 1)[1]]["payload"]["schema"]
        assert f"{schema['namespace']}.{schema['name']}" == record
        assert [f["name"] for f in schema["fields"]] == [f["name"] for f in load_avsc(record)["fields"]]


def test_committed_document_is_up_to_date() -> None:
    """Regenerate with `esb docs asyncapi` after changing the catalog or a schema."""
    assert yaml.safe_load(COMMITTED.read_text(encoding="utf-8")) == build_document(load_catalog())
