"""The local bus's plan (which processes, ports, env) and the recording target, without Kafka."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from esb.bus_supervisor.recording_target import RecordingTarget, handler_class
from esb.bus_supervisor.services import RECORDING_TARGET, LocalRun, ServiceSpec, bus_services
from esb.bus_supervisor.supervisor import BusLayout, BusPlan, plan_bus, process_environment
from esb.demo.secrets import DemoSecrets
from esb.deploy.chart import chart_service_setting, chart_services
from esb.devstack.stack import StackEndpoints

pytestmark = pytest.mark.unit

ENDPOINTS = StackEndpoints(
    "127.0.0.1:1", "http://127.0.0.1:2/apis/ccompat/v7", "http://127.0.0.1:3", "http://x:4"
)


def test_the_bus_is_the_charts_service_list_in_pipeline_order() -> None:
    names = [spec.name for spec in bus_services()]
    assert sorted(names) == chart_services()
    assert names[0] == "gateway"
    assert names.index("translator") < names.index("order-router") < names.index("egress")


def test_a_service_without_a_package_is_reported_missing_not_started() -> None:
    specs = [
        ServiceSpec("gateway", "gateway", LocalRun(ops_port_env="GATEWAY_PORT")),
        ServiceSpec("not-built", "not_built_yet", LocalRun()),
    ]
    plan = plan_bus(ENDPOINTS, base_port=9500, gateway_port=9080, specs=specs)
    assert plan.missing == ["not-built"]
    assert [p.name for p in plan.processes] == ["gateway", RECORDING_TARGET]
    assert plan.gateway_url == "http://127.0.0.1:9080"
    assert plan.target_url == "http://127.0.0.1:9500"


def test_ports_are_distinct_and_the_plan_round_trips(tmp_path: Path) -> None:
    plan = plan_bus(ENDPOINTS, base_port=None, gateway_port=None)
    ports = [p.ops_port for p in plan.processes]
    assert len(ports) == len(set(ports))
    assert BusPlan.from_json(json.loads(json.dumps(plan.to_json()))) == plan


def test_each_process_gets_its_own_port_instance_and_state_and_only_the_gateway_gets_secrets(
    tmp_path: Path,
) -> None:
    layout = BusLayout(tmp_path)
    plan = plan_bus(ENDPOINTS, instance_id="t1", base_port=9600, gateway_port=9090)
    secrets = DemoSecrets.generate()
    envs = {p.name: process_environment(layout, plan, p, secrets) for p in plan.processes if p.package}
    assert envs, "no service package is runnable"
    for name, env in envs.items():
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == ENDPOINTS.bootstrap_servers
        assert env["ESB_INSTANCE_ID"] == "t1"
        assert env["OTEL_SERVICE_NAME"] == name
        assert env["ESB_STATE_DIR"] == str(tmp_path / "state" / name)
        has_secrets = any(secrets.shopify_secret in value for value in env.values())
        assert has_secrets == (name == "gateway"), name
    if "gateway" in envs:
        assert envs["gateway"]["GATEWAY_PORT"] == "9090"
    if "connectors" in envs:
        assert envs["connectors"]["ESB_GUARANTEE"] == "at_least_once"
        accounts = json.loads(envs["connectors"]["CONNECTOR_ACCOUNTS"])
        assert accounts["demo-netsuite"]["base_url"] == f"{plan.target_url}/netsuite"
        # One account = one sink lane: the lane limit must not be what caps delivery below the account's.
        concurrency = accounts["demo-netsuite"]["max_concurrency"]
        assert int(envs["connectors"]["CONNECTOR_MAX_IN_FLIGHT_PER_ACCOUNT"]) >= concurrency
        assert int(envs["connectors"]["CONNECTOR_WORKERS"]) >= concurrency


@pytest.fixture
def target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class(RecordingTarget(None)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_recording_target_records_once_per_idempotency_key(target: str) -> None:
    first = httpx.post(
        f"{target}/netsuite/salesOrder", content=b'{"externalId":"a"}', headers={"Idempotency-Key": "k1"}
    )
    again = httpx.post(
        f"{target}/netsuite/salesOrder", content=b'{"externalId":"a"}', headers={"Idempotency-Key": "k1"}
    )
    other = httpx.put(f"{target}/netsuite/journalEntry", content=b'{"externalId":"b"}')
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert first.json()["id"] == again.json()["id"]
    records = httpx.get(f"{target}/_records").json()
    assert records["count"] == 2
    assert records["duplicates"] == 1
    assert httpx.get(f"{target}/_records", params={"contains": '"b"'}).json()["count"] == 1


def test_services_get_the_charts_commit_intervals_unless_one_is_exported() -> None:
    def intervals(environ: dict[str, str]) -> dict[str, str | None]:
        plan = plan_bus(ENDPOINTS, base_port=None, gateway_port=None, environ=environ)
        return {p.name: p.extra_env.get("ESB_COMMIT_INTERVAL_MS") for p in plan.processes if p.package}

    planned = intervals({})
    # One source: the Helm chart's commitIntervalMs, so a local bus and a cluster wait alike.
    assert planned == {name: str(chart_service_setting(name, "commitIntervalMs")) for name in planned}
    # The EOS hops webhook -> canonical -> ERP document each wait up to one interval for their
    # transaction: they run below the runtime's 100 ms default; the state-heavy folds keep it.
    assert {n: int(planned[n] or 100) < 100 for n in ("translator", "order-router", "egress")} == {
        "translator": True,
        "order-router": True,
        "egress": True,
    }
    assert [planned[n] for n in ("inventory-projector", "customer-merger")] == ["100"] * 2
    # An exported value is the operator's: every service inherits it, none is overridden.
    assert set(intervals({"ESB_COMMIT_INTERVAL_MS": "100"}).values()) == {None}
