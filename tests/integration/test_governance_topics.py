"""``esb topics apply|list`` against the real broker: creates, converges, repairs drift, stays idempotent."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource
from confluent_kafka.admin._resource import ResourceType
from typer.testing import CliRunner

from esb.cli import app
from esb.governance.catalog import Catalog, load_catalog
from esb.governance.topics import TopicState, TopicStatus, apply_catalog, compare_catalog
from tests.infra import StackEndpoints

pytestmark = pytest.mark.integration

_SAMPLE = ("ingress.shopify.orders", "canonical.orders.v1", "canonical.inventory-levels.v1", "dlq.translator")


@pytest.fixture
def catalog(kafka_admin: AdminClient, unique_name: Callable[[str], str]) -> Iterator[Catalog]:
    full = load_catalog()
    subset = full.model_copy(update={"topics": [full.topic(name) for name in _SAMPLE]})
    scoped = subset.for_environment(prefix=unique_name("gov") + ".", replication_factor=1)
    yield scoped
    for future in kafka_admin.delete_topics([t.name for t in scoped.topics]).values():
        with contextlib.suppress(KafkaException):
            future.result(timeout=30)


def _converged(admin: AdminClient, catalog: Catalog, timeout_s: float = 30.0) -> list[TopicState]:
    """Metadata and configs reach every broker asynchronously: poll until the cluster agrees."""
    deadline = time.monotonic() + timeout_s
    while True:
        states = compare_catalog(admin, catalog)
        if all(s.status is TopicStatus.OK for s in states) or time.monotonic() > deadline:
            return states
        time.sleep(0.5)


def test_apply_creates_every_topic_with_its_settings(kafka_admin: AdminClient, catalog: Catalog) -> None:
    before = apply_catalog(kafka_admin, catalog)
    assert {s.status for s in before} == {TopicStatus.MISSING}
    states = _converged(kafka_admin, catalog)
    assert [s.status for s in states] == [TopicStatus.OK] * len(_SAMPLE)
    prefix = catalog.topics[0].name.removesuffix(_SAMPLE[0])
    by_name = {s.spec.name.removeprefix(prefix): s for s in states}
    assert by_name["canonical.orders.v1"].actual_partitions == 12
    assert by_name["dlq.translator"].actual_partitions == 3
    levels = by_name["canonical.inventory-levels.v1"].spec.name
    configs = kafka_admin.describe_configs([ConfigResource(ResourceType.TOPIC, levels)])
    entries = next(iter(configs.values())).result(timeout=30)
    assert entries["cleanup.policy"].value == "compact"
    assert entries["min.insync.replicas"].value == "1"


def test_apply_is_idempotent_and_repairs_drift(kafka_admin: AdminClient, catalog: Catalog) -> None:
    apply_catalog(kafka_admin, catalog)
    _converged(kafka_admin, catalog)
    target = catalog.topics[1].name
    drift = ConfigResource(
        ResourceType.TOPIC,
        target,
        incremental_configs=[
            ConfigEntry("retention.ms", "1000", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    next(iter(kafka_admin.incremental_alter_configs([drift]).values())).result(timeout=30)
    deadline = time.monotonic() + 30
    while True:
        drifted = {s.spec.name: s for s in compare_catalog(kafka_admin, catalog)}[target]
        if drifted.status is TopicStatus.DRIFT or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert drifted.status is TopicStatus.DRIFT
    assert drifted.config_changes == {"retention.ms": "-1"}

    again = apply_catalog(kafka_admin, catalog)
    assert {s.spec.name for s in again if s.status is not TopicStatus.OK} == {target}
    assert all(s.status is TopicStatus.OK for s in _converged(kafka_admin, catalog))


def test_apply_refuses_a_replication_factor_the_cluster_cannot_hold(kafka_admin: AdminClient) -> None:
    wide = load_catalog().for_environment(prefix="never-created.", replication_factor=99)
    with pytest.raises(ValueError, match="brokers"):
        apply_catalog(kafka_admin, wide)


def test_cli_list_shows_the_catalog_against_the_cluster(
    stack: StackEndpoints, kafka_admin: AdminClient, catalog: Catalog
) -> None:
    prefix = catalog.topics[0].name.removesuffix(_SAMPLE[0])
    args = ["--bootstrap-servers", stack.bootstrap_servers, "--replication-factor", "1", "--prefix", prefix]
    full = load_catalog()
    try:
        runner = CliRunner()
        applied = runner.invoke(app, ["topics", "apply", *args])
        assert applied.exit_code == 0, applied.output
        listed = runner.invoke(app, ["topics", "list", *args])
        assert listed.exit_code == 0, listed.output
        assert f"{prefix}canonical.orders.v1" in listed.output
        assert "missing" not in listed.output
    finally:
        names = [prefix + t.name for t in full.topics]
        for future in kafka_admin.delete_topics(names).values():
            with contextlib.suppress(KafkaException):
                future.result(timeout=30)
