"""`esb dev up && esb dev status && esb dev down`, twice in a row, leaves no process behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from esb.devstack.processes import port_is_open

pytestmark = pytest.mark.integration

# Below 32768: Linux hands out 32768-60999 as the local ports of outgoing connections, and any
# client connection of the run could hold a listener port picked from that range.
_PORTS = {
    "ESB_DEV_KAFKA_PORT": 31092,
    "ESB_DEV_KAFKA_CONTROLLER_PORT": 31093,
    "ESB_DEV_REGISTRY_PORT": 31081,
    "ESB_DEV_REGISTRY_MANAGEMENT_PORT": 31001,
    "ESB_DEV_JAEGER_OTLP_GRPC_PORT": 31317,
    "ESB_DEV_JAEGER_OTLP_HTTP_PORT": 31318,
    "ESB_DEV_JAEGER_QUERY_PORT": 31686,
    "ESB_DEV_JAEGER_QUERY_GRPC_PORT": 31685,
    "ESB_DEV_JAEGER_HEALTH_PORT": 31133,
}


def _esb(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "esb.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _pids(run_dir: Path) -> dict[str, int]:
    return {pid_file.stem: int(pid_file.read_text()) for pid_file in run_dir.glob("*.pid")}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_up_status_down_twice_leaves_nothing_running(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ESB_DEV_STATE_DIR": str(tmp_path / "state"),
        **{k: str(v) for k, v in _PORTS.items()},
    }
    run_dir = tmp_path / "state" / "run"
    try:
        _two_rounds(env, run_dir)
    finally:
        _esb(["dev", "down"], env)


def _two_rounds(env: dict[str, str], run_dir: Path) -> None:
    for round_number in (1, 2):
        up = _esb(["dev", "up"], env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:31092" in up.stdout

        again = _esb(["dev", "up"], env)  # idempotent: nothing new is started
        assert again.returncode == 0, again.stdout + again.stderr
        started = _pids(run_dir)
        assert set(started) == {"kafka-1", "schema-registry", "jaeger"}, round_number

        status = _esb(["dev", "status"], env)
        assert status.returncode == 0, status.stdout
        assert status.stdout.count("ready") == 3

        down = _esb(["dev", "down"], env)
        assert down.returncode == 0, down.stdout + down.stderr
        assert not [name for name, pid in started.items() if _alive(pid)]
        assert not [port for port in _PORTS.values() if port_is_open("127.0.0.1", port)]
        assert _pids(run_dir) == {}

        stopped_status = _esb(["dev", "status"], env)
        assert stopped_status.returncode == 1
