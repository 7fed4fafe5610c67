"""Connection settings shared by every process: Kafka (plain, TLS, SASL/SCRAM), schema registry, OTLP.

One frozen pydantic-settings object per process, read from the environment in ``main()``, never at
import time. Secrets are ``SecretStr`` and are only revealed when handed to the client library.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "KafkaSettings",
    "SaslMechanism",
    "SchemaRegistrySettings",
    "SecurityProtocol",
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
    ssl_ca_location: Path | None = None
    ssl_certificate_location: Path | None = None
    ssl_key_location: Path | None = None
    ssl_key_password: SecretStr | None = None
    client_id_prefix: str = "esb"

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
    auto_register: bool = Field(
        default=False, description="register schemas on first use; for development only, never in production"
    )

    def client_config(self) -> dict[str, str]:
        """Configuration for ``confluent_kafka.schema_registry.SchemaRegistryClient``."""
        config = {"url": self.url}
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
