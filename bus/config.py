"""Connection settings shared by every process: Kafka (plain, TLS, SASL/SCRAM), schema registry, OTLP.

One frozen pydantic-settings object per process, read from the environment in ``main()``, never at
import time. Secrets are ``SecretStr`` and are only revealed when handed to the client library.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "BusSettings",
    "KafkaSettings",
    "ProcessingGuarantee",
    "RuntimeSettings",
    "SaslMechanism",
    "SchemaRegistrySettings",
    "SecurityProtocol",
    "StateBackend",
    "TelemetrySettings",
]


class SecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class SaslMechanism(StrEnum):
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"
    PLAIN = "PLAIN"


class KafkaSettings(BaseSettings):
    """How to reach the Kafka cluster. Environment: ``KAFKA_BOOTSTRAP_SERVERS``, ``KAFKA_SASL_USERNAME``..."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", frozen=True)

    bootstrap_servers: str = Field(description="comma-separated host:port list")
    security_protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    sasl_mechanism: SaslMechanism = SaslMechanism.SCRAM_SHA_512
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    sasl_password_file: Path | None = Field(
        default=None,
        description="file holding the SASL password (a mounted secret); read when no password is set",
    )
    ssl_ca_location: Path | None = None
    ssl_certificate_location: Path | None = None
    ssl_key_location: Path | None = None
    ssl_key_password: SecretStr | None = None
    client_id_prefix: str = "esb"

    @model_validator(mode="before")
    @classmethod
    def _password_from_file(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("sasl_password") is None and data.get("sasl_password_file"):
            secret = Path(data["sasl_password_file"]).read_text(encoding="utf-8").strip()
            data = {**data, "sasl_password": SecretStr(secret)}
        return data

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaSettings:
        uses_sasl = self.security_protocol in (SecurityProtocol.SASL_SSL, SecurityProtocol.SASL_PLAINTEXT)
        if uses_sasl and (self.sasl_username is None or self.sasl_password is None):
            raise ValueError(f"{self.security_protocol} needs sasl_username and sasl_password")
        return self

    def client_config(self) -> dict[str, str]:
        """librdkafka connection properties common to producers, consumers and admin clients."""
        config: dict[str, str] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol.value,
        }
        if self.security_protocol in (SecurityProtocol.SASL_SSL, SecurityProtocol.SASL_PLAINTEXT):
            assert self.sasl_username is not None
            assert self.sasl_password is not None
            config["sasl.mechanism"] = self.sasl_mechanism.value
            config["sasl.username"] = self.sasl_username
            config["sasl.password"] = self.sasl_password.get_secret_value()
        optional_paths = {
            "ssl.ca.location": self.ssl_ca_location,
            "ssl.certificate.location": self.ssl_certificate_location,
            "ssl.key.location": self.ssl_key_location,
        }
        config.update({key: str(path) for key, path in optional_paths.items() if path is not None})
        if self.ssl_key_password is not None:
            config["ssl.key.password"] = self.ssl_key_password.get_secret_value()
        return config


class SchemaRegistrySettings(BaseSettings):
    """Confluent-API schema registry. Environment: ``SCHEMA_REGISTRY_URL``, ``SCHEMA_REGISTRY_BASIC_AUTH``."""

    model_config = SettingsConfigDict(env_prefix="SCHEMA_REGISTRY_", frozen=True)

    url: str
    basic_auth: SecretStr | None = Field(default=None, description="user:password")
    ssl_ca_location: Path | None = None
    request_timeout_s: float = Field(default=10.0, gt=0, description="per HTTP request to the registry")
    auto_register: bool = Field(
        default=False, description="register schemas on first use; for development only, never in production"
    )

    def client_config(self) -> dict[str, Any]:
        """Configuration for ``confluent_kafka.schema_registry.SchemaRegistryClient``."""
        # Without a timeout the client waits forever on a connection the registry never answers;
        # with one, it retries (max.retries) and then fails loudly.
        config: dict[str, Any] = {"url": self.url, "timeout": self.request_timeout_s}
        if self.basic_auth is not None:
            config["basic.auth.user.info"] = self.basic_auth.get_secret_value()
        if self.ssl_ca_location is not None:
            config["ssl.ca.location"] = str(self.ssl_ca_location)
        return config


class TelemetrySettings(BaseSettings):
    """Where traces and metrics go. Environment: the standard ``OTEL_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="OTEL_", frozen=True)

    exporter_otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP base URL, e.g. http://host:4318"
    )
    service_name: str | None = None
    sdk_disabled: bool = False


class ProcessingGuarantee(StrEnum):
    EXACTLY_ONCE = "exactly_once"
    AT_LEAST_ONCE = "at_least_once"


class StateBackend(StrEnum):
    ROCKSDB = "rocksdb"
    SQLITE = "sqlite"


class RuntimeSettings(BaseSettings):
    """How the runtime processes: guarantee, batching, retries, state, HTTP. Environment: ``ESB_*``."""

    model_config = SettingsConfigDict(env_prefix="ESB_", frozen=True)

    instance_id: str = Field(
        default="0",
        description="stable per replica (e.g. the pod ordinal): names the transactional id and static member",
    )
    guarantee: ProcessingGuarantee = ProcessingGuarantee.EXACTLY_ONCE
    commit_every: int = Field(default=1000, ge=1, description="commit after this many input records")
    commit_interval_ms: int = Field(default=100, ge=1, description="commit at least this often while busy")
    transaction_timeout_ms: int = Field(default=30_000, ge=1000)
    session_timeout_ms: int = Field(default=10_000, ge=1000)
    max_poll_interval_ms: int = Field(default=120_000, ge=1000)
    retry_attempts: int = Field(default=5, ge=1, description="handler attempts before dead-lettering")
    retry_initial_backoff_ms: int = Field(default=100, ge=0)
    retry_max_backoff_ms: int = Field(default=2000, ge=0)
    max_failed_checkpoints: int = Field(
        default=5, ge=0, description="consecutive aborted checkpoints before the process crashes"
    )
    consumer_group: str | None = Field(
        default=None, description="the input consumer group's group.id; None = the service's name"
    )
    state_dir: Path = Path(".esb/state")
    state_backend: StateBackend = StateBackend.ROCKSDB
    restore_timeout_s: float = Field(default=120.0, gt=0)
    http_host: str = "0.0.0.0"  # noqa: S104 - probes and scrapes come from outside the pod
    http_port: int | None = Field(default=None, description="/healthz, /readyz, /metrics; None = off")
    log_level: str = "INFO"
    log_json: bool = True

    def group_of(self, service_name: str) -> str:
        """The consumer group a service's instances share (progress, lag and rebuilds are per group)."""
        return self.consumer_group or service_name

    @model_validator(mode="after")
    def _backoff_bounds(self) -> Self:
        if self.retry_max_backoff_ms < self.retry_initial_backoff_ms:
            raise ValueError("retry_max_backoff_ms must be >= retry_initial_backoff_ms")
        budget_ms = self.retry_max_backoff_ms * (self.retry_attempts - 1)
        if budget_ms + self.commit_interval_ms >= self.transaction_timeout_ms // 2:
            raise ValueError(
                "the retry budget plus commit_interval_ms must stay under transaction_timeout_ms / 2"
            )
        return self


class BusSettings(BaseSettings):
    """Everything one runtime process needs; built once in ``main()``."""

    model_config = SettingsConfigDict(frozen=True)

    kafka: KafkaSettings = Field(default_factory=lambda: KafkaSettings())  # type: ignore[call-arg]
    schema_registry: SchemaRegistrySettings = Field(
        default_factory=lambda: SchemaRegistrySettings()  # type: ignore[call-arg]
    )
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
