"""Start, watch and stop the bus's service processes on one machine.

``up``: the stack's endpoints in, one background process per available service out (own ops port,
instance id, state folder, log and pid file under ``<state>/run``), plus the recording target the
delivery connectors write to. The plan — ports, URLs, which services were missing — is written to
``<state>/bus.json`` for ``esb demo`` and ``esb status``; the per-run webhook secrets to
``<state>/secrets.json`` (mode 0600). ``down`` stops exactly the processes ``up`` started.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka.admin import AdminClient

from bus.config import SchemaRegistrySettings
from bus.serde import registry_client
from esb.bus_supervisor.services import RECORDING_TARGET, ServiceSpec, bus_services
from esb.demo.secrets import DemoSecrets
from esb.deploy.chart import REPO_ROOT
from esb.devstack.processes import ManagedProcess, free_port
from esb.devstack.stack import StackEndpoints
from esb.governance.catalog import DEFAULT_CATALOG_PATH, load_catalog
from esb.governance.registry import register_catalog
from esb.governance.topics import TopicStatus, apply_catalog

__all__ = [
    "BusLayout",
    "BusPlan",
    "PlannedProcess",
    "ProcessState",
    "apply_governance",
    "plan_bus",
    "process_environment",
    "read_plan",
    "start_bus",
    "status",
    "stop_bus",
]


@dataclass(frozen=True, slots=True)
class BusLayout:
    """Where one local bus keeps its plan, secrets, logs, pid files and service state."""

    root: Path

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def plan_file(self) -> Path:
        return self.root / "bus.json"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    def state_dir(self, name: str) -> Path:
        return self.root / "state" / name


@dataclass(frozen=True, slots=True)
class PlannedProcess:
    name: str
    package: str  # services/<package>, or "" for the recording target
    ops_port: int
    ops_port_env: str
    ready_path: str
    metrics_path: str
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def ops_url(self) -> str:
        return f"http://127.0.0.1:{self.ops_port}"


@dataclass(frozen=True, slots=True)
class BusPlan:
    endpoints: StackEndpoints
    instance_id: str
    processes: list[PlannedProcess]
    missing: list[str]  # chart services whose package has no __main__ yet

    def process(self, name: str) -> PlannedProcess | None:
        return next((p for p in self.processes if p.name == name), None)

    @property
    def gateway_url(self) -> str | None:
        gateway = self.process("gateway")
        return gateway.ops_url if gateway else None

    @property
    def target_url(self) -> str:
        target = self.process(RECORDING_TARGET)
        assert target is not None
        return target.ops_url

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoints": asdict(self.endpoints),
            "instance_id": self.instance_id,
            "processes": [asdict(p) for p in self.processes],
            "missing": self.missing,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BusPlan:
        return cls(
            endpoints=StackEndpoints(**data["endpoints"]),
            instance_id=data["instance_id"],
            processes=[PlannedProcess(**p) for p in data["processes"]],
            missing=list(data["missing"]),
        )


@dataclass(frozen=True, slots=True)
class ProcessState:
    name: str
    pid: int | None
    ready: bool
    url: str
    log_file: str


def plan_bus(
    endpoints: StackEndpoints,
    *,
    instance_id: str = "local",
    base_port: int | None = 9400,
    gateway_port: int | None = 8080,
    only: Sequence[str] | None = None,
    specs: Sequence[ServiceSpec] | None = None,
    environ: Mapping[str, str] | None = None,
) -> BusPlan:
    """Ports: ``base_port + i`` for service *i*'s ops port (free ports when ``base_port`` is None).

    A service's ``tuning`` variables are planned unless ``environ`` (default: this process's
    environment, which the services inherit) sets them: an exported value applies to every service.
    """
    exported = os.environ if environ is None else environ
    counter = iter(range(10_000))

    def port() -> int:
        return free_port() if base_port is None else base_port + next(counter)

    processes: list[PlannedProcess] = []
    missing: list[str] = []
    for spec in specs or bus_services():
        if only is not None and spec.name not in only:
            continue
        if not spec.available:
            missing.append(spec.name)
            continue
        local = spec.local
        ops = (gateway_port or port()) if spec.name == "gateway" else port()
        processes.append(
            PlannedProcess(
                name=spec.name,
                package=spec.package,
                ops_port=ops,
                ops_port_env=local.ops_port_env,
                ready_path=local.ready_path,
                metrics_path=local.metrics_path,
                extra_env={k: v for k, v in local.tuning.items() if k not in exported} | dict(local.env),
            )
        )
    processes.append(PlannedProcess(RECORDING_TARGET, "", port(), "", "/readyz", "", extra_env={}))
    return BusPlan(endpoints, instance_id, processes, missing)


def apply_governance(endpoints: StackEndpoints, replication_factor: int = 1) -> list[str]:
    """Create the catalog's topics (idempotent) and register the canonical schemas. Returns problems."""
    problems: list[str] = []
    catalog = load_catalog(DEFAULT_CATALOG_PATH)
    admin = AdminClient({"bootstrap.servers": endpoints.bootstrap_servers})
    states = apply_catalog(admin, catalog.for_environment(replication_factor=replication_factor))
    problems += [
        f"{s.spec.name}: {'; '.join(s.conflicts)}" for s in states if s.status is TopicStatus.CONFLICT
    ]
    register_catalog(registry_client(SchemaRegistrySettings(url=endpoints.schema_registry_url)), catalog)
    return problems


def _managed(
    layout: BusLayout, process: PlannedProcess, argv: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> ManagedProcess:
    return ManagedProcess(process.name, list(argv), REPO_ROOT, layout.run_dir, env)


def process_environment(
    layout: BusLayout, plan: BusPlan, process: PlannedProcess, secrets: DemoSecrets
) -> dict[str, str]:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": plan.endpoints.bootstrap_servers,
        "SCHEMA_REGISTRY_URL": plan.endpoints.schema_registry_url,
        "OTEL_SERVICE_NAME": process.name,
        "ESB_INSTANCE_ID": plan.instance_id,
        "ESB_HTTP_HOST": "127.0.0.1",
        "ESB_STATE_DIR": str(layout.state_dir(process.name)),
        "PYTHONUNBUFFERED": "1",
        process.ops_port_env: str(process.ops_port),
    }
    if plan.endpoints.otlp_http_endpoint:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = plan.endpoints.otlp_http_endpoint
    if process.name == "gateway":
        env |= secrets.gateway_env()
    env |= {name: value.replace("$TARGET_URL", plan.target_url) for name, value in process.extra_env.items()}
    return env


def _argv(layout: BusLayout, process: PlannedProcess) -> list[str]:
    if process.name == RECORDING_TARGET:
        out = layout.root / "recording-target.jsonl"
        return [
            sys.executable,
            "-m",
            "esb.bus_supervisor.recording_target",
            "--port",
            str(process.ops_port),
            "--out",
            str(out),
        ]
    return [sys.executable, "-m", f"services.{process.package}"]


def _ready(process: PlannedProcess) -> bool:
    try:
        return httpx.get(process.ops_url + process.ready_path, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_bus(
    layout: BusLayout, plan: BusPlan, *, ready_timeout_s: float = 120.0, max_restarts: int = 3
) -> list[ProcessState]:
    """Start every planned process not already running; wait until each is ready.

    A process that exits while starting is restarted (up to ``max_restarts`` times, 2 s apart), as
    an orchestrator would: the runtime crashes on purpose on errors it cannot handle in place.
    """
    layout.root.mkdir(parents=True, exist_ok=True)
    secrets = (
        DemoSecrets.load(layout.secrets_file)
        if layout.secrets_file.exists() and _any_running(layout)
        else DemoSecrets.generate()
    )
    secrets.save(layout.secrets_file)
    layout.plan_file.write_text(json.dumps(plan.to_json(), indent=2))
    ordered = sorted(plan.processes, key=lambda p: p.name != RECORDING_TARGET)  # the target first
    for process in ordered:
        managed = _managed(
            layout, process, _argv(layout, process), process_environment(layout, plan, process, secrets)
        )
        if not managed.is_running():
            layout.state_dir(process.name).mkdir(parents=True, exist_ok=True)
            managed.start()
    _wait_ready(layout, plan, secrets, ready_timeout_s, max_restarts)
    return status(layout)


def _wait_ready(
    layout: BusLayout, plan: BusPlan, secrets: DemoSecrets, timeout_s: float, max_restarts: int
) -> None:
    deadline = time.monotonic() + timeout_s
    waiting = {p.name: p for p in plan.processes}
    restarts: dict[str, int] = {}
    while waiting and time.monotonic() < deadline:
        time.sleep(1.0)
        for name, process in list(waiting.items()):
            if _ready(process):
                del waiting[name]
                continue
            managed = _managed(
                layout, process, _argv(layout, process), process_environment(layout, plan, process, secrets)
            )
            if managed.is_running():
                continue
            if restarts.get(name, 0) >= max_restarts:
                del waiting[name]  # stays down; its log says why
                continue
            restarts[name] = restarts.get(name, 0) + 1
            time.sleep(1.0)
            managed.start()


def read_plan(layout: BusLayout) -> BusPlan | None:
    try:
        return BusPlan.from_json(json.loads(layout.plan_file.read_text()))
    except FileNotFoundError:
        return None


def _any_running(layout: BusLayout) -> bool:
    plan = read_plan(layout)
    return bool(plan and any(_managed(layout, p).is_running() for p in plan.processes))


def status(layout: BusLayout) -> list[ProcessState]:
    plan = read_plan(layout)
    if plan is None:
        return []
    states = []
    for process in plan.processes:
        managed = _managed(layout, process)
        pid = managed.pid()
        states.append(
            ProcessState(
                process.name, pid, pid is not None and _ready(process), process.ops_url, str(managed.log_file)
            )
        )
    return states


def stop_bus(layout: BusLayout, timeout_s: float = 30.0) -> list[str]:
    """SIGTERM every process of the plan (all at once), wait, SIGKILL stragglers. Returns those stopped."""
    plan = read_plan(layout)
    if plan is None:
        return []
    handles = [_managed(layout, p) for p in reversed(plan.processes)]
    stopped = [h.name for h in handles if h.terminate()]
    for handle in handles:
        handle.wait_stopped(timeout_s)
    return stopped
