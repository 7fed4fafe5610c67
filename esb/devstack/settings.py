"""Settings of the local development stack: versions, ports and folders.

Every value can be overridden from the environment with the ``ESB_DEV_`` prefix, e.g.
``ESB_DEV_KAFKA_PORT=19092``. The defaults match ``docker-compose.yml`` (a test keeps them in step).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DevStackSettings"]


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "esb"


def _default_state_dir() -> Path:
    return Path.home() / ".local" / "state" / "esb" / "dev"


class DevStackSettings(BaseSettings):
    """Where the stack's downloads and running state live, which versions run, on which ports."""

    model_config = SettingsConfigDict(env_prefix="ESB_DEV_", frozen=True)

    cache_dir: Path = Field(default_factory=_default_cache_dir, description="downloads and builds, kept")
    state_dir: Path = Field(default_factory=_default_state_dir, description="data, logs and pid files")

    kafka_version: str = "4.1.1"
    log4j_version: str = "2.24.3"
    apicurio_version: str = "3.3.3"
    jaeger_version: str = "v1.76.0"

    host: str = "127.0.0.1"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    # Node i of a multi-node cluster listens on kafka_port + i * node_port_step (likewise its controller).
    node_port_step: int = 100
    registry_port: int = 8081
    registry_management_port: int = 9001
    jaeger_otlp_grpc_port: int = 4317
    jaeger_otlp_http_port: int = 4318
    jaeger_query_port: int = 16686
    jaeger_query_grpc_port: int = 16685
    jaeger_health_port: int = 13133

    kafka_heap: str = "1g"
    registry_heap: str = "512m"
    start_timeout_s: float = 120.0

    @field_validator("cache_dir", "state_dir")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        # Pid files and configs hold these paths; a relative one would change meaning with the cwd.
        return path.expanduser().resolve()

    def kafka_client_port(self, node_index: int) -> int:
        return self.kafka_port + node_index * self.node_port_step

    def kafka_controller_port_of(self, node_index: int) -> int:
        return self.kafka_controller_port + node_index * self.node_port_step

    def bootstrap_servers(self, brokers: int) -> str:
        return ",".join(f"{self.host}:{self.kafka_client_port(i)}" for i in range(brokers))

    @property
    def schema_registry_url(self) -> str:
        return f"http://{self.host}:{self.registry_port}/apis/ccompat/v7"

    @property
    def otlp_http_endpoint(self) -> str:
        return f"http://{self.host}:{self.jaeger_otlp_http_port}"

    @property
    def jaeger_query_url(self) -> str:
        return f"http://{self.host}:{self.jaeger_query_port}"
