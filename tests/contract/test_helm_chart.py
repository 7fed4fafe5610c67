"""The Helm chart renders what a cluster needs, for several values scenarios, and Kubernetes accepts it.

Helm is built from its Go module on first use (``esb.deploy.helm``); without Go these tests fail.
The rendered core objects are validated, offline, against the Kubernetes JSON schemas shipped in the
``kubernetes-validate`` package; CRD objects (KEDA, prometheus-operator) are checked field by field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from esb.deploy.chart import CHART_DIR, Manifest, chart_services, render
from esb.deploy.helm import HelmUnavailableError, ensure_helm
from services.connectors.settings import ConnectorSettings
from services.egress.settings import EgressSettings

pytestmark = pytest.mark.contract

SCENARIOS = sorted(p.name for p in (CHART_DIR / "ci").glob("*-values.yaml"))
# The chart's minimum Kubernetes version and the newest the schema package knows.
KUBE_VERSIONS = ["1.27", "1.37"]
CRD_KINDS = {"ScaledObject", "TriggerAuthentication", "ServiceMonitor"}
SECRET_LIKE = re.compile(r"(?i)(password|secret|token|basic.?auth|api.?key|private.?key)")


@pytest.fixture(scope="module", autouse=True)
def helm_binary() -> Path:
    try:
        return ensure_helm()
    except HelmUnavailableError as exc:
        pytest.fail(f"Helm is needed for the chart checks and could not be provided: {exc}")


@cache
def _rendered(scenario: str) -> tuple[Manifest, ...]:
    return tuple(render([CHART_DIR / "ci" / scenario]))


def _of_kind(manifests: tuple[Manifest, ...], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def _component(manifest: Manifest) -> str:
    return str(manifest["metadata"]["labels"]["app.kubernetes.io/component"])


def _deployments(scenario: str) -> dict[str, Manifest]:
    """Deployments by service name."""
    return {_component(d): d for d in _of_kind(_rendered(scenario), "Deployment").values()}


def _container(deployment: Manifest) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def _env(deployment: Manifest) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in _container(deployment)["env"]}


def _scenario_values(scenario: str) -> dict[str, Any]:
    return dict(yaml.safe_load((CHART_DIR / "ci" / scenario).read_text()))


def test_scenarios_exist() -> None:
    assert {"minimal-values.yaml", "production-values.yaml", "keda-values.yaml"} <= set(SCENARIOS)


def test_chart_declares_the_bus_services() -> None:
    assert chart_services() == sorted(
        [
            "gateway",
            "translator",
            "order-router",
            "inventory-projector",
            "ledger-poster",
            "customer-merger",
            "egress",
            "connectors",
        ]
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_enabled_service_gets_its_objects(scenario: str) -> None:
    disabled = {
        name
        for name, override in (_scenario_values(scenario).get("services") or {}).items()
        if override and override.get("enabled") is False
    }
    expected = set(chart_services()) - disabled
    manifests = _rendered(scenario)
    for kind in ("Deployment", "Service", "ServiceAccount", "PodDisruptionBudget", "NetworkPolicy"):
        rendered = {_component(m) for m in _of_kind(manifests, kind).values()}
        assert rendered == expected, f"{scenario}: {kind} for {sorted(rendered ^ expected)}"
    for name, deployment in _deployments(scenario).items():
        package = name.replace("-", "_")
        assert _container(deployment)["args"] == [package], "the image runs `esb run <package>`"
        assert _env(deployment)["OTEL_SERVICE_NAME"]["value"] == name


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_probes_hit_the_ops_port_health_endpoints(scenario: str) -> None:
    ops_port = yaml.safe_load((CHART_DIR / "values.yaml").read_text())["defaults"]["opsPort"]
    assert ops_port == 9400
    for name, deployment in _deployments(scenario).items():
        container = _container(deployment)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["ops"] == ops_port, name
        assert _env(deployment)["ESB_HTTP_PORT"]["value"] == str(ops_port)
        expected = {"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"}
        for probe, path in expected.items():
            assert container[probe]["httpGet"] == {"path": path, "port": "ops"}, f"{name} {probe}"
    gateway = _container(_deployments(scenario)["gateway"])
    assert {"name": "http", "containerPort": 8080, "protocol": "TCP"} in gateway["ports"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_pods_run_unprivileged_with_a_state_volume(scenario: str) -> None:
    for name, deployment in _deployments(scenario).items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        container = _container(deployment)
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["resources"]["requests"]["memory"], name
        state_dir = _env(deployment)["ESB_STATE_DIR"]["value"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts[state_dir]], f"{name}: the store lives in an emptyDir"
        assert pod["serviceAccountName"] == deployment["metadata"]["name"]


def test_no_secret_value_reaches_a_configmap_or_plain_env() -> None:
    """Secrets only ever arrive through secretKeyRef / envFrom; ConfigMaps hold rules only."""
    manifests = _rendered("production-values.yaml")
    assert not _of_kind(manifests, "Secret"), "the chart references Secrets, it never creates them"
    for config_map in _of_kind(manifests, "ConfigMap").values():
        for key, value in (config_map.get("data") or {}).items():
            assert not SECRET_LIKE.search(key), f"{config_map['metadata']['name']}: {key}"
            assert not SECRET_LIKE.search(str(value)), f"{config_map['metadata']['name']}: {key}"
    for name, deployment in _deployments("production-values.yaml").items():
        env = _env(deployment)
        for var_name, var in env.items():
            if SECRET_LIKE.search(var_name):
                assert "secretKeyRef" in var.get("valueFrom", {}), f"{name}: {var_name} is plain"
        assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": "esb-kafka-credentials",
            "key": "password",
        }
        assert env["SCHEMA_REGISTRY_BASIC_AUTH"]["valueFrom"]["secretKeyRef"]["name"] == (
            "esb-registry-credentials"
        )
        assert env["KAFKA_SSL_CA_LOCATION"]["value"].startswith("/etc/esb/tls/kafka-ca/")
    gateway = _container(_deployments("production-values.yaml")["gateway"])
    assert {"secretRef": {"name": "esb-webhook-secrets"}} in gateway["envFrom"]


def test_plaintext_install_sets_no_sasl() -> None:
    env = _env(_deployments("minimal-values.yaml")["translator"])
    assert env["KAFKA_SECURITY_PROTOCOL"]["value"] == "PLAINTEXT"
    assert not {"KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_SSL_CA_LOCATION"} & env.keys()
    assert env["SCHEMA_REGISTRY_URL"]["value"].endswith("/apis/ccompat/v7")


def test_rules_are_mounted_from_configmaps() -> None:
    manifests = _rendered("production-values.yaml")
    deployments = _deployments("production-values.yaml")
    config_maps = _of_kind(manifests, "ConfigMap")
    router = deployments["order-router"]["spec"]["template"]["spec"]
    routing = next(v for v in router["volumes"] if v["name"] == "rules-routing")
    assert "routing.yaml" in config_maps[routing["configMap"]["name"]]["data"]
    assert "checksum/rules" in deployments["order-router"]["spec"]["template"]["metadata"]["annotations"]
    poster = deployments["ledger-poster"]["spec"]["template"]["spec"]
    accounts = next(v for v in poster["volumes"] if v["name"] == "rules-chart-of-accounts")
    assert accounts["configMap"]["name"] == "finance-chart-of-accounts"  # existingConfigMap
    mounts = {m["mountPath"] for m in _container(deployments["ledger-poster"])["volumeMounts"]}
    assert "/etc/esb/rules/chart-of-accounts" in mounts
    assert not any(
        v["name"].startswith("rules-")
        for v in deployments["translator"]["spec"]["template"]["spec"]["volumes"]
    )


def test_observability_settings() -> None:
    production = _rendered("production-values.yaml")
    monitors = _of_kind(production, "ServiceMonitor")
    assert len(monitors) == 1
    (monitor,) = monitors.values()
    assert monitor["spec"]["endpoints"][0]["port"] == "ops"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    for service in _of_kind(production, "Service").values():
        assert any(p["name"] == "ops" for p in service["spec"]["ports"])
    for name, deployment in _deployments("production-values.yaml").items():
        env = _env(deployment)
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == "http://otel-collector.observability.svc:4318"
        assert "deployment.environment=production" in env["OTEL_RESOURCE_ATTRIBUTES"]["value"], name
    minimal = _deployments("minimal-values.yaml")["egress"]["spec"]["template"]["metadata"]["annotations"]
    assert minimal["prometheus.io/scrape"] == "true"
    assert minimal["prometheus.io/port"] == "9400"
    assert not _of_kind(_rendered("minimal-values.yaml"), "ServiceMonitor")


def test_autoscaling_hpa_and_keda() -> None:
    production = _rendered("production-values.yaml")
    hpas = {_component(h): h for h in _of_kind(production, "HorizontalPodAutoscaler").values()}
    assert set(hpas) == {"gateway"}
    assert hpas["gateway"]["spec"]["maxReplicas"] == 8
    assert "replicas" not in _deployments("production-values.yaml")["gateway"]["spec"], "the HPA owns it"
    assert _deployments("production-values.yaml")["translator"]["spec"]["replicas"] == 2

    keda = _rendered("keda-values.yaml")
    scaled = {_component(s): s for s in _of_kind(keda, "ScaledObject").values()}
    consumers = set(chart_services()) - {"gateway", "customer-merger"}
    assert set(scaled) == consumers
    for name, obj in scaled.items():
        assert obj["apiVersion"] == "keda.sh/v1alpha1"
        assert obj["spec"]["scaleTargetRef"]["name"] == f"esb-{name}"
        (trigger,) = obj["spec"]["triggers"]
        assert trigger["type"] == "kafka"
        assert trigger["metadata"]["sasl"] == "scram_sha256"
        assert trigger["authenticationRef"]["name"] == "esb-kafka"
        assert "replicas" not in _deployments("keda-values.yaml")[name]["spec"], "KEDA owns it"
    router = scaled["order-router"]["spec"]["triggers"][0]["metadata"]
    assert router["consumerGroup"] == "esb-order-router"
    assert router["topic"] == "canonical.orders.v1"
    assert router["lagThreshold"] == "200"
    assert scaled["translator"]["spec"]["triggers"][0]["metadata"]["consumerGroup"] == "translator"
    # KEDA watches the group the pods consume as: a renamed one reaches the runtime, a default
    # one is the runtime's own service name (no env: an upgrade keeps every live group).
    deployments = _deployments("keda-values.yaml")
    runtime_names = {
        "egress": EgressSettings.model_fields["service_name"].default,
        "connectors": ConnectorSettings.model_fields["service_name"].default,
    }
    for name, obj in scaled.items():
        watched = obj["spec"]["triggers"][0]["metadata"]["consumerGroup"]
        renamed = _env(deployments[name]).get("ESB_CONSUMER_GROUP", {}).get("value")
        assert watched == (renamed or runtime_names.get(name, name)), name
    assert "ESB_CONSUMER_GROUP" not in _env(deployments["translator"])
    assert _env(deployments["order-router"])["ESB_CONSUMER_GROUP"]["value"] == "esb-order-router"
    (auth,) = _of_kind(keda, "TriggerAuthentication").values()
    params = {ref["parameter"]: ref["name"] for ref in auth["spec"]["secretTargetRef"]}
    assert params == {
        "username": "esb-kafka-credentials",
        "password": "esb-kafka-credentials",
        "ca": "kafka-cluster-ca",
    }


def test_network_policy_limits_the_ops_port_and_egress() -> None:
    policies = {
        _component(p): p for p in _of_kind(_rendered("production-values.yaml"), "NetworkPolicy").values()
    }
    gateway = policies["gateway"]["spec"]
    assert gateway["policyTypes"] == ["Ingress", "Egress"]
    ops_rule, http_rule = gateway["ingress"]
    assert ops_rule["ports"] == [{"port": "ops", "protocol": "TCP"}]
    assert ops_rule["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "monitoring"
    }
    assert http_rule == {"ports": [{"port": "http", "protocol": "TCP"}]}, "webhooks may come from anywhere"
    assert {"port": 53, "protocol": "UDP"} in gateway["egress"][0]["ports"]
    assert len(policies["translator"]["spec"]["ingress"]) == 1, "no extra ports, no extra ingress"


def _validate(manifest: Manifest, kube_version: str) -> None:
    kubernetes_validate.validate(manifest, kube_version, strict=True)


def _core_manifests() -> Iterator[tuple[str, Manifest]]:
    for scenario in SCENARIOS:
        for manifest in _rendered(scenario):
            if manifest["kind"] not in CRD_KINDS:
                yield scenario, manifest


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_rendered_manifests_match_the_kubernetes_schemas(kube_version: str) -> None:
    failures: list[str] = []
    count = 0
    for scenario, manifest in _core_manifests():
        count += 1
        try:
            _validate(manifest, kube_version)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            failures.append(
                f"{scenario} {manifest['kind']}/{manifest['metadata']['name']} {path}: {exc.message}"
            )
        except kubernetes_validate.SchemaNotFoundError as exc:
            failures.append(f"{scenario}: {exc.message}")
    assert count >= 3 * 40
    assert not failures, "\n".join(failures)


def test_the_schema_check_catches_an_invalid_deployment() -> None:
    """The validation above is not vacuous: a wrong type or an unknown field is reported."""
    deployment = json.loads(json.dumps(_deployments("minimal-values.yaml")["translator"]))
    _validate(deployment, "1.37")
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(deployment, "1.37")
    deployment["spec"]["replicas"] = 1
    _container(deployment)  # still one container
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGett"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(deployment, "1.37")


def test_commit_intervals_follow_each_services_values() -> None:
    deployments = _deployments("minimal-values.yaml")
    intervals = {name: _env(d)["ESB_COMMIT_INTERVAL_MS"]["value"] for name, d in deployments.items()}
    assert {n: intervals[n] for n in ("translator", "order-router", "egress", "ledger-poster")} == {
        "translator": "25",
        "order-router": "25",
        "egress": "25",
        "ledger-poster": "50",
    }
    assert intervals["inventory-projector"] == "100"  # the defaults' value
