"""Where the tests' infrastructure comes from: the environment, testcontainers, or the local stack."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

from esb.devstack import stack as devstack
from esb.devstack.settings import DevStackSettings
from esb.devstack.stack import StackEndpoints

__all__ = ["REGISTRY_TIMEOUT_S", "StackEndpoints", "local_stack_settings", "provide_stack"]

REPO_ROOT = Path(__file__).resolve().parent.parent

# Registry clients built in tests time out (and retry) like production ones (bus.config): a request
# the registry never answers fails the test instead of hanging the run.
REGISTRY_TIMEOUT_S = 10.0

# Test stacks listen on their own ports so they never collide with a developer's `esb dev up`,
# all below 32768, where Linux never picks the local port of an outgoing connection.
_TEST_PORTS: dict[int, dict[str, int]] = {
    1: {
        "kafka_port": 19092,
        "kafka_controller_port": 19093,
        "registry_port": 18081,
        "registry_management_port": 19001,
        "jaeger_otlp_grpc_port": 14317,
        "jaeger_otlp_http_port": 14318,
        "jaeger_query_port": 26686,
        "jaeger_query_grpc_port": 26685,
        "jaeger_health_port": 23133,
    },
    3: {"kafka_port": 29092, "kafka_controller_port": 29093},
}


def local_stack_settings(brokers: int) -> DevStackSettings:
    """Settings of the local test stack for a cluster of ``brokers`` nodes."""
    state = Path(os.environ.get("ESB_TEST_STATE_DIR", REPO_ROOT / ".esb")) / f"test-stack-{brokers}"
    return DevStackSettings(state_dir=state, **_TEST_PORTS[brokers])  # type: ignore[arg-type]


def _docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return (
            subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False).returncode == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextmanager
def _from_environment() -> Iterator[StackEndpoints]:
    yield StackEndpoints(
        bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        schema_registry_url=os.environ.get("SCHEMA_REGISTRY_URL", ""),
        otlp_http_endpoint=os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
        jaeger_query_url=os.environ.get("JAEGER_QUERY_URL", ""),
    )


@contextmanager
def _from_testcontainers() -> Iterator[StackEndpoints]:
    """The same three components from images (only on hosts with a Docker engine)."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs
    from testcontainers.kafka import KafkaContainer

    with ExitStack() as containers:
        kafka: Any = containers.enter_context(KafkaContainer("apache/kafka:4.1.1").with_kraft())
        registry: Any = containers.enter_context(
            DockerContainer("apicurio/apicurio-registry:3.3.3").with_exposed_ports(8080)
        )
        jaeger: Any = containers.enter_context(
            DockerContainer("jaegertracing/jaeger:2.13.0").with_exposed_ports(4318, 16686)
        )
        wait_for_logs(registry, "Listening on", timeout=120)
        registry_url = f"http://{registry.get_container_host_ip()}:{registry.get_exposed_port(8080)}"
        host = jaeger.get_container_host_ip()
        yield StackEndpoints(
            bootstrap_servers=kafka.get_bootstrap_server(),
            schema_registry_url=f"{registry_url}/apis/ccompat/v7",
            otlp_http_endpoint=f"http://{host}:{jaeger.get_exposed_port(4318)}",
            jaeger_query_url=f"http://{host}:{jaeger.get_exposed_port(16686)}",
        )


@contextmanager
def _from_local_stack(brokers: int) -> Iterator[StackEndpoints]:
    settings = local_stack_settings(brokers)
    endpoints = devstack.up(settings, brokers=brokers, kafka_only=brokers > 1)
    try:
        yield endpoints
    finally:
        if os.environ.get("ESB_TEST_KEEP_STACK") != "1":
            devstack.down(settings, purge=True)


def provide_stack(brokers: int = 1) -> AbstractContextManager[StackEndpoints]:
    """Infrastructure for a test session; raises (never skips) when none can be had."""
    if brokers == 1 and os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return _from_environment()
    if brokers == 1 and _docker_available():
        return _from_testcontainers()
    return _from_local_stack(brokers)
