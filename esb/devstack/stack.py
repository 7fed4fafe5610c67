"""Bring the whole local stack up, report on it, and take it down again.

``up`` is idempotent: components already running are left alone. ``down`` stops exactly the
processes whose pid files ``up`` wrote in the state folder, nothing else.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass

from esb.devstack import secure as secure_material
from esb.devstack.components import Component, components_for
from esb.devstack.processes import (
    PortTakenError,
    StartFailedError,
    port_can_be_bound,
    wait_until,
)
from esb.devstack.settings import DevStackSettings

__all__ = ["ComponentStatus", "StackEndpoints", "down", "endpoints", "is_secure", "status", "up"]


@dataclass(frozen=True, slots=True)
class StackEndpoints:
    """What a client needs to reach the stack."""

    bootstrap_servers: str
    schema_registry_url: str
    otlp_http_endpoint: str
    jaeger_query_url: str


@dataclass(frozen=True, slots=True)
class ComponentStatus:
    name: str
    pid: int | None
    ready: bool
    endpoint: str
    log_file: str


def _manifest_path(settings: DevStackSettings) -> str:
    return str(settings.state_dir / "stack.json")


@dataclass(frozen=True, slots=True)
class _Manifest:
    """What the last `up` in a state folder started."""

    brokers: int
    kafka_only: bool
    secure: bool = False


def _read_manifest(settings: DevStackSettings) -> _Manifest | None:
    try:
        with open(_manifest_path(settings)) as manifest:
            data = json.load(manifest)
        return _Manifest(
            brokers=int(data["brokers"]),
            kafka_only=bool(data.get("kafka_only", False)),
            secure=bool(data.get("secure", False)),
        )
    except (FileNotFoundError, KeyError, ValueError):
        return None


def _read_brokers(settings: DevStackSettings) -> int | None:
    manifest = _read_manifest(settings)
    return manifest.brokers if manifest else None


def _recorded_components(settings: DevStackSettings) -> list[Component]:
    manifest = _read_manifest(settings) or _Manifest(brokers=1, kafka_only=False)
    return components_for(settings, manifest.brokers, manifest.kafka_only, manifest.secure)


def is_secure(settings: DevStackSettings) -> bool:
    """Whether the last `up` in this state folder started the secure (SASL_SSL) stack."""
    manifest = _read_manifest(settings)
    return manifest is not None and manifest.secure


def endpoints(settings: DevStackSettings, brokers: int | None = None) -> StackEndpoints:
    count = brokers or _read_brokers(settings) or 1
    return StackEndpoints(
        bootstrap_servers=settings.bootstrap_servers(count),
        schema_registry_url=settings.schema_registry_url,
        otlp_http_endpoint=settings.otlp_http_endpoint,
        jaeger_query_url=settings.jaeger_query_url,
    )


def _check_ports_free(component: Component) -> None:
    for purpose, port in component.ports.items():
        if not port_can_be_bound(component.settings.host, port):
            raise PortTakenError(
                f"Port {port} ({component.name} {purpose}) is already taken by a process this stack did "
                f"not start. Stop that process or choose other ports (ESB_DEV_* settings)."
            )


def up(
    settings: DevStackSettings,
    brokers: int = 1,
    kafka_only: bool = False,
    secure: bool = False,
    principals: Iterable[str] = (),
) -> StackEndpoints:
    """Fetch what is missing, start what is not running, wait until everything answers.

    ``secure``: Kafka listens with SASL_SSL only (SCRAM-SHA-512, TLS from a local CA) behind the
    StandardAuthorizer; ``principals`` get SCRAM credentials (see :mod:`esb.devstack.secure`).
    """
    recorded = _read_manifest(settings)
    components = components_for(settings, brokers, kafka_only, secure)
    if recorded is not None and (recorded.brokers, recorded.secure) != (brokers, secure):
        if any(c.managed().is_running() for c in _recorded_components(settings)):
            mode = "secure " if recorded.secure else ""
            raise RuntimeError(
                f"A {recorded.brokers}-node {mode}stack is running from {settings.state_dir}; "
                f"run 'esb dev down' before starting one with {brokers} node(s)"
                f"{' in secure mode' if secure else ''}."
            )
        # A stopped stack of another size or security mode: its Kafka data cannot be reused.
        shutil.rmtree(settings.state_dir / "data", ignore_errors=True)

    for component in components:
        component.fetch()

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with open(_manifest_path(settings), "w") as manifest:
        json.dump(
            {
                "brokers": brokers,
                "kafka_only": kafka_only,
                "secure": secure,
                "components": [c.name for c in components],
            },
            manifest,
        )

    started: list[Component] = []
    for component in components:
        if component.managed().is_running():
            continue
        _check_ports_free(component)
        component.process().start()
        started.append(component)

    for component in components:
        ready = wait_until(
            lambda c=component: c.is_ready() or not c.managed().is_running(),  # type: ignore[misc]
            settings.start_timeout_s,
        )
        if not (ready and component.is_ready()):
            handle = component.managed()
            raise StartFailedError(
                f"{component.name} did not become ready (log: {handle.log_file}):\n{handle.log_tail()}"
            )
    if secure:
        secure_material.ensure_scram_users(settings, principals, brokers)
    return endpoints(settings, brokers)


def status(settings: DevStackSettings) -> list[ComponentStatus]:
    result = []
    for component in _recorded_components(settings):
        handle = component.managed()
        pid = handle.pid()
        result.append(
            ComponentStatus(
                name=component.name,
                pid=pid,
                ready=pid is not None and component.is_ready(),
                endpoint=component.endpoint(),
                log_file=str(handle.log_file),
            )
        )
    return result


def down(settings: DevStackSettings, purge: bool = False) -> list[str]:
    """Stop every process this state folder started (Jaeger first, Kafka last). Returns their names."""
    handles = [c.managed() for c in reversed(_recorded_components(settings))]
    # Signal all at once: nodes of a multi-node cluster shut down together instead of each
    # waiting for a quorum that the previous stops took away.
    stopped = [h.name for h in handles if h.terminate()]
    for handle in handles:
        handle.wait_stopped()
    if purge:
        shutil.rmtree(settings.state_dir / "data", ignore_errors=True)
    return stopped
