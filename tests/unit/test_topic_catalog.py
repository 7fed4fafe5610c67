"""The topic catalog: complete, consistent with the canonical model, and safely overridable."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from esb.governance.catalog import Catalog, load_catalog
from schemas.events import EVENTS

pytestmark = pytest.mark.unit


def test_every_canonical_event_has_exactly_one_topic() -> None:
    """One topic per record, in one or more versions (``.v1`` and ``.v2`` differ in the key only)."""
    topics = load_catalog().avro_topics()
    values = [t.value.avro for t in topics]
    stems = {(t.value.avro, t.name.rsplit(".", 1)[0]) for t in topics}
    assert len(stems) == len(set(values)), "two topics share a value record"
    missing = {m.avro_name() for m in EVENTS} - set(values)
    assert not missing, f"add a catalog/topics.yaml entry for {sorted(missing)}"
    assert set(values) <= {m.avro_name() for m in EVENTS}, "add the record's model to schemas.events.EVENTS"


def test_state_topics_are_compacted() -> None:
    catalog = load_catalog()
    for name in (
        "canonical.inventory-levels.v1",
        "canonical.golden-customers.v1",
        "canonical.customer-crosswalk.v1",
    ):
        assert catalog.topic_config(catalog.topic(name))["cleanup.policy"] == "compact"


def test_topic_names_follow_the_conventions() -> None:
    for topic in load_catalog().topics:
        kind = topic.name.split(".")[0]
        if kind == "canonical":
            assert topic.name.split(".")[-1].startswith("v")
            assert topic.value.avro is not None
        elif kind in ("ingress", "egress", "dlq"):
            assert topic.value.format is not None


def test_environment_override_renames_and_caps_min_insync() -> None:
    catalog = load_catalog().for_environment(prefix="t1.", replication_factor=1)
    topic = catalog.topic("t1.canonical.orders.v1")
    assert catalog.replication_factor(topic) == 1
    assert catalog.topic_config(topic)["min.insync.replicas"] == "1"
    assert topic.value_subject == "t1.canonical.orders.v1-value"


def test_catalog_rejects_duplicates_and_ambiguous_values() -> None:
    topic = {"name": "a", "description": "d", "key": {"description": "k"}, "owner": "o"}
    with pytest.raises(ValidationError, match="listed twice"):
        Catalog.model_validate({"topics": [{**topic, "value": {"format": "x"}}] * 2})
    with pytest.raises(ValidationError, match="either"):
        Catalog.model_validate({"topics": [{**topic, "value": {"format": "x", "avro": "y"}}]})
