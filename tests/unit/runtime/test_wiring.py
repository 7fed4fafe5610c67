"""Settings, the health endpoints and `esb run` wiring."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import Counter
from pydantic import ValidationError
from typer.testing import CliRunner

from bus.config import BusSettings, ProcessingGuarantee, RuntimeSettings, StateBackend
from bus.observability.health import Health, HealthServer
from esb.cli import app

pytestmark = pytest.mark.unit


def test_bus_settings_read_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9093")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "svc")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", "http://registry")
    monkeypatch.setenv("ESB_GUARANTEE", "at_least_once")
    monkeypatch.setenv("ESB_STATE_BACKEND", "sqlite")
    monkeypatch.setenv("ESB_COMMIT_EVERY", "250")
    settings = BusSettings()
    assert settings.runtime.guarantee is ProcessingGuarantee.AT_LEAST_ONCE
    assert settings.runtime.state_backend is StateBackend.SQLITE
    assert settings.runtime.commit_every == 250
    config = settings.kafka.client_config()
    assert (config["security.protocol"], config["sasl.mechanism"], config["sasl.password"]) == (
        "SASL_SSL",
        "SCRAM-SHA-512",
        "s3cret",
    )
    assert "s3cret" not in repr(settings)
    with pytest.raises(ValidationError):
        settings.runtime.commit_every = 1


def test_runtime_settings_reject_inverted_backoff() -> None:
    with pytest.raises(ValidationError, match="retry_max_backoff_ms"):
        RuntimeSettings(retry_initial_backoff_ms=500, retry_max_backoff_ms=100)


def test_health_endpoints_follow_the_loop() -> None:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    Counter("esb_probe", "probe", registry=registry).inc()
    health = Health(stall_after_s=60)
    server = HealthServer("127.0.0.1", 0, health, registry)
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{base}/healthz").status_code == 200
        not_ready = httpx.get(f"{base}/readyz")
        assert (not_ready.status_code, not_ready.text) == (503, "starting")
        health.set_ready(True, "assigned")
        assert httpx.get(f"{base}/readyz").status_code == 200
        assert "esb_probe_total 1.0" in httpx.get(f"{base}/metrics").text
        assert httpx.get(f"{base}/nope").status_code == 404
    finally:
        server.stop()


def test_health_reports_a_stalled_loop() -> None:
    health = Health(stall_after_s=0.0)
    assert not health.alive
    health = Health(stall_after_s=60)
    health.beat()
    assert health.alive


def test_esb_run_rejects_an_unknown_service() -> None:
    result = CliRunner().invoke(app, ["run", "no_such_service"])
    assert result.exit_code != 0
    assert "no service package services.no_such_service" in result.output


def test_clients_pin_the_range_assignor_and_the_java_partitioner() -> None:
    from bus.clients import consumer_config, producer_config

    consumer = consumer_config(
        {"bootstrap.servers": "b"},
        client_id="c",
        group="g",
        member="g-0",
        session_timeout_ms=10_000,
        max_poll_interval_ms=60_000,
    )
    producer = producer_config({"bootstrap.servers": "b"}, {"linger.ms": 5})
    assert consumer["partition.assignment.strategy"] == "range"
    assert (consumer["isolation.level"], consumer["group.instance.id"]) == ("read_committed", "g-0")
    assert (producer["partitioner"], producer["acks"], producer["linger.ms"]) == ("murmur2_random", "all", 5)
