"""docker-compose.yml runs the chart's services against the same stack the dev settings describe."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from esb.deploy.chart import CHART_DIR, REPO_ROOT, chart_service_setting, chart_services
from esb.devstack.settings import DevStackSettings

pytestmark = pytest.mark.contract

INFRA = {"kafka", "schema-registry", "jaeger"}
SERVICES_PACKAGE = REPO_ROOT / "services"
NOT_DEPLOYED = {"examples"}  # sample services for the runtime's tests


@cache
def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text()))


def _service(name: str) -> dict[str, Any]:
    return dict(_compose()["services"][name])


def _default(field: str) -> Any:
    """A DevStackSettings default as written in the code, whatever ESB_DEV_* says in this shell."""
    return DevStackSettings.model_fields[field].default


def _published(name: str) -> dict[int, int]:
    """container port -> host port."""
    mapping: dict[int, int] = {}
    for entry in _service(name).get("ports", []):
        host, container = str(entry).split(":")
        mapping[int(container)] = int(host)
    return mapping


def _chart_values() -> dict[str, Any]:
    return dict(yaml.safe_load((CHART_DIR / "values.yaml").read_text()))


def test_compose_runs_exactly_the_chart_services() -> None:
    compose = set(_compose()["services"])
    assert compose >= INFRA
    assert sorted(compose - INFRA) == chart_services()


def test_every_runnable_service_package_is_deployed() -> None:
    """A package with a ``__main__`` (``python -m services.<name>``) is in the chart, hence in compose."""
    runnable = {
        path.parent.name.replace("_", "-")
        for path in SERVICES_PACKAGE.glob("*/__main__.py")
        if path.parent.name not in NOT_DEPLOYED
    }
    assert runnable, "services/ has no runnable package: is the path right?"
    assert runnable <= set(chart_services()), (
        f"not in helm/esb/values.yaml: {sorted(runnable - set(chart_services()))}"
    )


@pytest.mark.parametrize("name", chart_services())
def test_each_service_container_matches_the_chart(name: str) -> None:
    service = _service(name)
    values = _chart_values()
    ops_port = values["defaults"]["opsPort"]
    env = service["environment"]
    assert service["command"] == [name.replace("-", "_")], "`esb run <package under services/>`"
    assert env["OTEL_SERVICE_NAME"] == name
    assert env["ESB_HTTP_PORT"] == str(ops_port)
    assert env["ESB_STATE_DIR"] == values["defaults"]["stateDir"]
    assert env["KAFKA_SECURITY_PROTOCOL"] == "PLAINTEXT"
    chart_interval = str(chart_service_setting(name, "commitIntervalMs"))
    assert env.get("ESB_COMMIT_INTERVAL_MS", "100") == chart_interval, "the chart's commitIntervalMs"
    assert ops_port in _published(name)
    for port in (values["services"][name] or {}).get("ports", []):
        assert _published(name)[port["port"]] == port["port"], f"{name} publishes {port['name']}"
    assert service["depends_on"]["kafka"] == {"condition": "service_healthy"}


def test_published_host_ports_do_not_collide() -> None:
    host_ports = [host for name in _compose()["services"] for host in _published(name).values()]
    assert len(host_ports) == len(set(host_ports))


def test_kafka_matches_the_dev_settings() -> None:
    kafka = _service("kafka")
    env = kafka["environment"]
    port = _default("kafka_port")
    assert port == 9092
    assert kafka["image"] == f"apache/kafka:{_default('kafka_version')}"
    assert _published("kafka") == {port: port}
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller", "KRaft, no ZooKeeper"
    advertised = dict(item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert advertised["HOST"] == f"localhost:{port}"
    # the containers reach the broker through its in-network listener
    bootstrap = _service("translator")["environment"]["KAFKA_BOOTSTRAP_SERVERS"]
    assert bootstrap == advertised["DOCKER"]
    assert bootstrap.split(":")[0] == "kafka"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1", "transactions on one broker"


def test_registry_matches_the_dev_settings() -> None:
    registry = _service("schema-registry")
    assert registry["image"].startswith("apicurio/apicurio-registry:3.")
    assert registry["image"] == f"apicurio/apicurio-registry:{_default('apicurio_version')}"
    assert _default("registry_port") == 8081
    (container_port,) = [c for c, h in _published("schema-registry").items() if h == 8081]
    dev_url = urlparse(DevStackSettings(host="127.0.0.1", registry_port=8081).schema_registry_url)
    assert dev_url.path == "/apis/ccompat/v7"
    in_network = urlparse(_service("gateway")["environment"]["SCHEMA_REGISTRY_URL"])
    assert (in_network.hostname, in_network.port, in_network.path) == (
        "schema-registry",
        container_port,
        dev_url.path,
    )


def test_jaeger_matches_the_dev_settings() -> None:
    jaeger = _service("jaeger")
    assert jaeger["image"].startswith("jaegertracing/jaeger:2.")
    ports = _published("jaeger")
    for field, expected in (
        ("jaeger_otlp_grpc_port", 4317),
        ("jaeger_otlp_http_port", 4318),
        ("jaeger_query_port", 16686),
    ):
        assert _default(field) == expected
        assert ports[expected] == expected, field
    otlp = urlparse(_service("egress")["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert (otlp.scheme, otlp.hostname, otlp.port) == ("http", "jaeger", _default("jaeger_otlp_http_port"))
