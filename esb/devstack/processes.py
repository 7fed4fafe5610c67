"""Background processes with a pid file and a log file, and the port checks around them."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ManagedProcess",
    "PortTakenError",
    "StartFailedError",
    "free_port",
    "port_can_be_bound",
    "port_is_open",
    "wait_until",
]


class PortTakenError(RuntimeError):
    """A port the stack needs is held by a process the stack did not start."""


class StartFailedError(RuntimeError):
    """A component exited or did not become ready in time; its log says why."""


def port_is_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def port_can_be_bound(host: str, port: int) -> bool:
    """True when a server could listen on host:port now.

    A connect probe misses a port held by a socket that does not listen, such as the local end of
    an outgoing connection; binding the way servers do (SO_REUSEADDR) fails on it, as the server would.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


# Ports for servers started later (a bus's ops ports, a test's services) come from below Linux's
# ephemeral range (32768-60999), where the kernel picks bind(0)'s ports and the local ports of
# outgoing connections: any client connection could take one of those between the pick and the
# server's bind. The range avoids every fixed port of the dev and test stacks.
_SERVER_PORTS = range(20000, 23000)
_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def free_port(host: str = "127.0.0.1") -> int:
    """A port a server can bind now, outside the ephemeral range, never handed out before by this
    process (the servers of one plan start after all their ports are picked)."""
    start = random.randrange(len(_SERVER_PORTS))
    with _handed_out_lock:
        for step in range(len(_SERVER_PORTS)):
            port = _SERVER_PORTS[(start + step) % len(_SERVER_PORTS)]
            if port not in _handed_out and port_can_be_bound(host, port):
                _handed_out.add(port)
                return port
    raise PortTakenError(f"no free port left in {_SERVER_PORTS.start}-{_SERVER_PORTS.stop - 1}")


def wait_until(predicate: Callable[[], bool], timeout_s: float, interval_s: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()


@dataclass(frozen=True, slots=True)
class ManagedProcess:
    """One component process of the stack, identified by its pid file in the state folder."""

    name: str
    argv: Sequence[str]
    cwd: Path
    run_dir: Path
    env: Mapping[str, str] | None = None

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid from the pid file if that process is still alive, else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        # A zombie (exited child not yet reaped) counts as stopped.
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, IndexError):
            return None
        return None if state == "Z" else pid

    def is_running(self) -> bool:
        return self.pid() is not None

    def start(self) -> int:
        """Start detached (own session, so Ctrl-C in the caller's terminal does not reach it)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                list(self.argv),
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def terminate(self) -> bool:
        """Ask the process group to stop (SIGTERM) without waiting. True if it was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal_group(pid, signal.SIGTERM)
        return True

    def wait_stopped(self, timeout_s: float = 30.0) -> None:
        """Wait for the process to exit; SIGKILL its group after the timeout."""
        pid = self.pid()
        if pid is not None and not wait_until(lambda: self.pid() is None, timeout_s):
            _signal_group(pid, signal.SIGKILL)
            wait_until(lambda: self.pid() is None, 10.0)
        self.pid_file.unlink(missing_ok=True)

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM the process group, SIGKILL after the timeout. True if something was stopped."""
        was_running = self.terminate()
        self.wait_stopped(timeout_s)
        return was_running

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, sig)
