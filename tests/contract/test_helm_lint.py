"""`helm lint --strict` passes for each values scenario; schema violations and broken templates fail."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from esb.deploy.chart import CHART_DIR, helm_lint, helm_template
from esb.deploy.helm import HelmUnavailableError, ensure_helm

pytestmark = pytest.mark.contract

SCENARIOS = sorted((CHART_DIR / "ci").glob("*-values.yaml"))
MINIMAL = CHART_DIR / "ci" / "minimal-values.yaml"


@pytest.fixture(scope="module", autouse=True)
def helm_binary() -> Path:
    try:
        return ensure_helm()
    except HelmUnavailableError as exc:
        pytest.fail(f"Helm is needed for the chart checks and could not be provided: {exc}")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_lint_strict_passes(scenario: Path) -> None:
    result = helm_lint([scenario])
    assert result.ok, result.output
    assert "0 chart(s) failed" in result.output


def test_defaults_alone_are_rejected_until_kafka_and_registry_are_set() -> None:
    """The chart will not install anywhere until a team says where its Kafka and registry are."""
    result = helm_template([])
    assert not result.ok
    assert "/kafka/bootstrapServers" in result.output
    assert "/schemaRegistry/url" in result.output


# (values merged over the minimal scenario, a fragment the error must name)
SCHEMA_VIOLATIONS = {
    "plaintext-sasl-password": ({"kafka": {"sasl": {"password": "hunter2"}}}, "password"),
    "secret-in-plain-env": ({"defaults": {"env": {"KAFKA_SASL_PASSWORD": "hunter2"}}}, "KAFKA_SASL_PASSWORD"),
    "unknown-service-key": ({"services": {"translator": {"replica": 3}}}, "replica"),
    "wrong-type": ({"services": {"gateway": {"replicas": "two"}}}, "/services/gateway/replicas"),
    "sasl-without-secret": ({"kafka": {"securityProtocol": "SASL_SSL"}}, "existingSecret"),
    "bad-security-protocol": ({"kafka": {"securityProtocol": "TLS"}}, "securityProtocol"),
    "registry-url-not-http": ({"schemaRegistry": {"url": "registry:8080"}}, "/schemaRegistry/url"),
    "bad-bootstrap-list": ({"kafka": {"bootstrapServers": "kafka-0 kafka-1"}}, "bootstrapServers"),
    "port-out-of-range": ({"defaults": {"opsPort": 94000}}, "opsPort"),
    "bad-service-name": ({"services": {"Order_Router": {}}}, "Order_Router"),
}


@pytest.mark.parametrize("case", sorted(SCHEMA_VIOLATIONS))
def test_values_schema_violations_fail_lint_and_template(case: str, tmp_path: Path) -> None:
    values, fragment = SCHEMA_VIOLATIONS[case]
    bad = tmp_path / "bad-values.yaml"
    bad.write_text(yaml.safe_dump(values))
    lint = helm_lint([MINIMAL, bad])
    template = helm_template([MINIMAL, bad])
    assert not lint.ok, lint.output
    assert not template.ok, template.output
    assert fragment in template.output, template.output


# Template-level rules the JSON schema cannot express. They stop `helm template` / `install`; `helm lint`
# runs templates in lint mode, where `fail` only logs, so the test run renders every scenario too.
TEMPLATE_RULE_VIOLATIONS = {
    "hpa-and-keda": (
        {"services": {"egress": {"autoscaling": {"enabled": True}, "keda": {"enabled": True}}}},
        "not both",
    ),
    "unknown-ruleset": ({"services": {"egress": {"rulesets": ["pricing"]}}}, '"pricing" is not defined'),
    "probe-on-missing-port": ({"services": {"translator": {"probes": {"port": "http"}}}}, "probes.port"),
}


@pytest.mark.parametrize("case", sorted(TEMPLATE_RULE_VIOLATIONS))
def test_template_rules_fail_with_a_clear_message(case: str, tmp_path: Path) -> None:
    values, fragment = TEMPLATE_RULE_VIOLATIONS[case]
    bad = tmp_path / "bad-values.yaml"
    bad.write_text(yaml.safe_dump(values))
    result = helm_template([MINIMAL, bad])
    assert not result.ok
    assert fragment in result.output, result.output


BROKEN_TEMPLATES = {
    "parse-error": "{{- range .Values.services }}\nkind: ConfigMap\n",
    "nil-pointer": "kind: ConfigMap\nmetadata:\n  name: {{ .Values.kafka.nope.missing }}\n",
    "invalid-yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: {a: b}\n",
    "unknown-function": "kind: ConfigMap\nmetadata:\n  name: {{ frobnicate .Values.image }}\n",
}


@pytest.mark.parametrize("case", sorted(BROKEN_TEMPLATES))
def test_a_broken_template_fails_lint_and_template(case: str, tmp_path: Path) -> None:
    chart = tmp_path / "esb"
    shutil.copytree(CHART_DIR, chart)
    assert helm_template([MINIMAL], chart_dir=chart).ok, "the copy renders before it is broken"
    (chart / "templates" / "broken.yaml").write_text(BROKEN_TEMPLATES[case])
    lint = helm_lint([MINIMAL], chart_dir=chart)
    template = helm_template([MINIMAL], chart_dir=chart)
    assert not lint.ok, lint.output
    assert not template.ok, template.output
    assert "broken.yaml" in template.output
