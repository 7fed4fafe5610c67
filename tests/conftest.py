"""Session infrastructure for every test tier.

Integration tests reach real infrastructure, found in this order:
1. ``KAFKA_BOOTSTRAP_SERVERS`` (+ ``SCHEMA_REGISTRY_URL``, ``OTEL_EXPORTER_OTLP_ENDPOINT``,
   ``JAEGER_QUERY_URL``) when set: an existing stack;
2. testcontainers when a Docker engine answers;
3. otherwise the project's own local stack (``esb dev up``) in a test state folder on test ports,
   started once per session and stopped afterwards (``ESB_TEST_KEEP_STACK=1`` keeps it for the next run).
Missing infrastructure fails the run; it is never skipped.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from tests.infra import REGISTRY_TIMEOUT_S, StackEndpoints, provide_stack


@pytest.fixture(scope="session")
def stack() -> Iterator[StackEndpoints]:
    """Endpoints of a running Kafka + schema registry + Jaeger."""
    with provide_stack(brokers=1) as endpoints:
        yield endpoints


@pytest.fixture(scope="session")
def kafka_admin(stack: StackEndpoints) -> AdminClient:
    return AdminClient({"bootstrap.servers": stack.bootstrap_servers})


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Topic and group names unique to this test, readable in broker logs."""
    test = "".join(ch if ch.isalnum() else "-" for ch in request.node.name)[:40].strip("-")

    def make(prefix: str) -> str:
        return f"{prefix}.{test}.{uuid.uuid4().hex[:8]}"

    return make


@pytest.fixture
def create_topic(kafka_admin: AdminClient, unique_name: Callable[[str], str]) -> Iterator[Callable[..., str]]:
    """Create a uniquely named topic; every topic created is deleted after the test."""
    created: list[str] = []

    def make(prefix: str = "test", partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = unique_name(prefix)
        futures = kafka_admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=-1, config=config or {})]
        )
        futures[name].result(timeout=30)
        created.append(name)
        return name

    yield make
    if created:
        for future in kafka_admin.delete_topics(created).values():
            # Cleanup of a test topic must not mask the test's own result.
            with contextlib.suppress(KafkaException):
                future.result(timeout=30)


@pytest.fixture(scope="session")
def schema_registry_conf(stack: StackEndpoints) -> dict[str, str]:
    return {"url": stack.schema_registry_url, "timeout": REGISTRY_TIMEOUT_S}
