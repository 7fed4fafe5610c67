"""The stack's components: how each is configured, started and known to be ready."""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import httpx

from esb.devstack import fetch, secure
from esb.devstack.processes import ManagedProcess, port_is_open
from esb.devstack.settings import DevStackSettings

__all__ = [
    "Component",
    "JaegerComponent",
    "KafkaNode",
    "RegistryComponent",
    "components_for",
    "new_cluster_id",
]

_KAFKA_MIN_JAVA = 17
_APICURIO_MIN_JAVA = 21


@dataclass(frozen=True)
class Component(ABC):
    settings: DevStackSettings

    @property
    @abstractmethod
    def name(self) -> str: ...

    @property
    @abstractmethod
    def ports(self) -> dict[str, int]:
        """Every port the component listens on, by purpose."""

    @property
    def run_dir(self) -> Path:
        return self.settings.state_dir / "run"

    @property
    def data_dir(self) -> Path:
        return self.settings.state_dir / "data" / self.name

    @abstractmethod
    def fetch(self) -> None:
        """Download/build what the component needs into the cache (no-op when cached)."""

    @abstractmethod
    def process(self) -> ManagedProcess:
        """The process to start, after preparing its config and data folders."""

    def managed(self) -> ManagedProcess:
        """The process handle for status and stop, without preparing anything."""
        return ManagedProcess(self.name, [], self.run_dir, self.run_dir)

    @abstractmethod
    def is_ready(self) -> bool: ...

    def endpoint(self) -> str:
        return ", ".join(f"{purpose} {self.settings.host}:{port}" for purpose, port in self.ports.items())


@dataclass(frozen=True)
class KafkaNode(Component):
    """One combined broker+controller KRaft node of a cluster of ``cluster_size`` nodes.

    ``secure``: the client listener is SASL_SSL (SCRAM-SHA-512 over TLS) instead of PLAINTEXT, the
    controller listener is mutual TLS, and the StandardAuthorizer denies whatever no ACL allows.
    """

    index: int = 0
    cluster_size: int = 1
    secure: bool = False

    @property
    def name(self) -> str:
        return f"kafka-{self.index + 1}"

    @property
    def ports(self) -> dict[str, int]:
        return {
            "client": self.settings.kafka_client_port(self.index),
            "controller": self.settings.kafka_controller_port_of(self.index),
        }

    def fetch(self) -> None:
        fetch.ensure_kafka(self.settings)
        fetch.find_java(_KAFKA_MIN_JAVA)

    def _server_properties(self) -> str:
        s = self.settings
        voters = ",".join(
            f"{i + 1}@{s.host}:{s.kafka_controller_port_of(i)}" for i in range(self.cluster_size)
        )
        replication = min(3, self.cluster_size)
        min_isr = 2 if self.cluster_size >= 3 else 1
        client, controller = self.ports["client"], self.ports["controller"]
        listener = "SASL_SSL" if self.secure else "PLAINTEXT"
        lines = [
            "process.roles=broker,controller",
            f"node.id={self.index + 1}",
            f"controller.quorum.voters={voters}",
            f"listeners={listener}://{s.host}:{client},CONTROLLER://{s.host}:{controller}",
            f"advertised.listeners={listener}://{s.host}:{client}",
            "controller.listener.names=CONTROLLER",
            f"inter.broker.listener.name={listener}",
            f"listener.security.protocol.map={self._protocol_map()}",
            *self._security_properties(),
            f"log.dirs={self.data_dir / 'log'}",
            f"default.replication.factor={replication}",
            f"min.insync.replicas={min_isr}",
            f"offsets.topic.replication.factor={replication}",
            f"transaction.state.log.replication.factor={replication}",
            f"transaction.state.log.min.isr={min_isr}",
            "num.partitions=6",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
            "delete.topic.enable=true",
            "share.coordinator.state.topic.replication.factor=" + str(replication),
            "share.coordinator.state.topic.min.isr=" + str(min_isr),
        ]
        return "\n".join(lines) + "\n"

    def _protocol_map(self) -> str:
        if self.secure:
            return "CONTROLLER:SSL,SASL_SSL:SASL_SSL"
        return "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"

    def _security_properties(self) -> list[str]:
        """TLS, SCRAM and the authorizer of a secure node (nothing for a plain one).

        Clients authenticate with SCRAM-SHA-512 over TLS; brokers talk to each other on the same
        listener as the admin principal. The controller listener requires a client certificate
        signed by the local CA (SCRAM cannot serve it: its credentials live in the metadata log the
        controller serves). Resources without ACLs are closed to everyone but the super users.
        """
        if not self.secure:
            return []
        s = self.settings
        password = secure.admin_password(s).get_secret_value()
        jaas = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{secure.ADMIN_PRINCIPAL}" password="{password}";'
        )
        return [
            "sasl.enabled.mechanisms=SCRAM-SHA-512",
            "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
            f"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={jaas}",
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={secure.keystore_file(s)}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={secure.ca_file(s)}",
            "ssl.enabled.protocols=TLSv1.3,TLSv1.2",
            "listener.name.controller.ssl.client.auth=required",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found=false",
            f"super.users=User:{secure.ADMIN_PRINCIPAL};User:{secure.BROKER_PRINCIPAL}",
        ]

    def _log4j_properties(self) -> str:
        log = self.run_dir / f"{self.name}.server.log"
        return "\n".join(
            [
                "status = error",
                "appender.file.type = RollingFile",
                "appender.file.name = file",
                f"appender.file.fileName = {log}",
                f"appender.file.filePattern = {log}.%i",
                "appender.file.layout.type = PatternLayout",
                "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                "appender.file.policies.type = Policies",
                "appender.file.policies.size.type = SizeBasedTriggeringPolicy",
                "appender.file.policies.size.size = 50MB",
                "appender.file.strategy.type = DefaultRolloverStrategy",
                "appender.file.strategy.max = 3",
                "rootLogger.level = info",
                "rootLogger.appenderRef.file.ref = file",
                "logger.kafka.name = kafka",
                "logger.kafka.level = info",
                "logger.state.name = state.change.logger",
                "logger.state.level = warn",
                "",
            ]
        )

    def process(self) -> ManagedProcess:
        libs = fetch.ensure_kafka(self.settings)
        java = fetch.find_java(_KAFKA_MIN_JAVA)
        config_dir = self.data_dir / "config"
        config_dir.mkdir(parents=True, exist_ok=True)
        server_props = config_dir / "server.properties"
        if self.secure:
            secure.ensure_certificates(self.settings)
            # It holds the inter-broker SCRAM password: owner-only, like the secrets folder.
            secure.write_private(server_props, self._server_properties().encode())
        else:
            server_props.write_text(self._server_properties())
        log4j = config_dir / "log4j2.properties"
        log4j.write_text(self._log4j_properties())
        jvm = [
            str(java),
            "-Xms256m",
            f"-Xmx{self.settings.kafka_heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            f"{libs}/*",
        ]
        if not (self.data_dir / "log" / "meta.properties").exists():
            self._format_storage(jvm, server_props)
        return ManagedProcess(
            self.name, [*jvm, "kafka.Kafka", str(server_props)], self.data_dir, self.run_dir
        )

    def _format_storage(self, jvm: list[str], server_props: Path) -> None:
        command = [
            *jvm,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            self._cluster_id(),
            "-c",
            str(server_props),
        ]
        password = ""
        if self.secure:
            # KRaft keeps SCRAM credentials in the metadata log: the inter-broker (admin) principal
            # must exist before the first start (KIP-900). Service principals are added later
            # through the Admin API, so that their passwords never appear on a command line.
            password = secure.admin_password(self.settings).get_secret_value()
            command += ["--add-scram", f"SCRAM-SHA-512=[name={secure.ADMIN_PRINCIPAL},password={password}]"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0 or not (self.data_dir / "log" / "meta.properties").exists():
            output = f"{result.stdout}{result.stderr}"
            if password:
                output = output.replace(password, "[REDACTED]")
            raise RuntimeError(f"formatting storage of {self.name} failed:\n{output}")

    def _cluster_id(self) -> str:
        """All nodes of one cluster share one id, kept in the state folder."""
        id_file = self.settings.state_dir / "data" / "kafka-cluster-id"
        # An id starting with "-" never formatted a node (the tool read it as an option): replace it.
        if not id_file.exists() or id_file.read_text().startswith("-"):
            id_file.parent.mkdir(parents=True, exist_ok=True)
            id_file.write_text(new_cluster_id())
        return id_file.read_text().strip()

    def is_ready(self) -> bool:
        return port_is_open(self.settings.host, self.ports["client"])


def new_cluster_id() -> str:
    """A random KRaft cluster id, as Kafka's ``Uuid.randomUuid()`` makes them: base64url of 16
    random bytes, never starting with "-" (``kafka-storage format -t -x...`` takes it for an option)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


@dataclass(frozen=True)
class RegistryComponent(Component):
    """Apicurio Registry 3.x with in-memory storage; Confluent API under /apis/ccompat/v7."""

    @property
    def name(self) -> str:
        return "schema-registry"

    @property
    def ports(self) -> dict[str, int]:
        return {"http": self.settings.registry_port, "management": self.settings.registry_management_port}

    def fetch(self) -> None:
        fetch.ensure_apicurio(self.settings)
        fetch.find_java(_APICURIO_MIN_JAVA)

    def process(self) -> ManagedProcess:
        app = fetch.ensure_apicurio(self.settings)
        java = fetch.find_java(_APICURIO_MIN_JAVA)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        s = self.settings
        props = {
            "quarkus.http.host": s.host,
            "quarkus.http.port": s.registry_port,
            "quarkus.management.host": s.host,
            "quarkus.management.port": s.registry_management_port,
            # The registry's own tracing would otherwise try to export to our Jaeger.
            "quarkus.otel.sdk.disabled": "true",
            # Deleting subjects and versions is part of the Confluent API that tests and tooling use.
            "apicurio.rest.deletion.artifact.enabled": "true",
            "apicurio.rest.deletion.artifact-version.enabled": "true",
            "apicurio.rest.deletion.group.enabled": "true",
        }
        argv = [
            str(java),
            f"-Xmx{s.registry_heap}",
            *(f"-D{key}={value}" for key, value in props.items()),
            "-jar",
            str(app / "quarkus-run.jar"),
        ]
        return ManagedProcess(self.name, argv, self.data_dir, self.run_dir)

    def is_ready(self) -> bool:
        try:
            response = httpx.get(f"{self.settings.schema_registry_url}/subjects", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200


@dataclass(frozen=True)
class JaegerComponent(Component):
    """Jaeger v2 all-in-one with in-memory storage: OTLP in, query API and UI out."""

    @property
    def name(self) -> str:
        return "jaeger"

    @property
    def ports(self) -> dict[str, int]:
        s = self.settings
        return {
            "otlp-grpc": s.jaeger_otlp_grpc_port,
            "otlp-http": s.jaeger_otlp_http_port,
            "query": s.jaeger_query_port,
            "query-grpc": s.jaeger_query_grpc_port,
            "health": s.jaeger_health_port,
        }

    def fetch(self) -> None:
        fetch.ensure_jaeger(self.settings)

    def _config(self) -> dict[str, object]:
        s = self.settings
        return {
            "service": {
                "extensions": ["jaeger_storage", "jaeger_query", "healthcheckv2"],
                "pipelines": {
                    "traces": {
                        "receivers": ["otlp"],
                        "processors": ["batch"],
                        "exporters": ["jaeger_storage_exporter"],
                    }
                },
                "telemetry": {
                    "resource": {"service.name": "jaeger"},
                    "metrics": {"level": "none"},
                    "logs": {"level": "info"},
                },
            },
            "extensions": {
                "healthcheckv2": {"use_v2": True, "http": {"endpoint": f"{s.host}:{s.jaeger_health_port}"}},
                "jaeger_query": {
                    "storage": {"traces": "memstore"},
                    "http": {"endpoint": f"{s.host}:{s.jaeger_query_port}"},
                    "grpc": {"endpoint": f"{s.host}:{s.jaeger_query_grpc_port}"},
                },
                "jaeger_storage": {"backends": {"memstore": {"memory": {"max_traces": 100000}}}},
            },
            "receivers": {
                "otlp": {
                    "protocols": {
                        "grpc": {"endpoint": f"{s.host}:{s.jaeger_otlp_grpc_port}"},
                        "http": {"endpoint": f"{s.host}:{s.jaeger_otlp_http_port}"},
                    }
                }
            },
            "processors": {"batch": {"timeout": "200ms"}},
            "exporters": {"jaeger_storage_exporter": {"trace_storage": "memstore"}},
        }

    def process(self) -> ManagedProcess:
        binary = fetch.ensure_jaeger(self.settings)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "config.yaml"
        # JSON is valid YAML, and needs no YAML writer here.
        config.write_text(json.dumps(self._config(), indent=2))
        return ManagedProcess(self.name, [str(binary), "--config", str(config)], self.data_dir, self.run_dir)

    def is_ready(self) -> bool:
        try:
            response = httpx.get(f"{self.settings.jaeger_query_url}/api/services", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and port_is_open(
            self.settings.host, self.settings.jaeger_otlp_http_port
        )


def components_for(
    settings: DevStackSettings, brokers: int, kafka_only: bool = False, secure: bool = False
) -> list[Component]:
    """Start order: the Kafka nodes, then the registry, then Jaeger."""
    nodes: list[Component] = [
        KafkaNode(settings, index=i, cluster_size=brokers, secure=secure) for i in range(brokers)
    ]
    if kafka_only:
        return nodes
    return [*nodes, RegistryComponent(settings), JaegerComponent(settings)]
