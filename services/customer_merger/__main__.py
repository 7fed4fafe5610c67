"""``python -m services.customer_merger``: settings, the two services and the runtime, wired.

``CUSTOMER_MERGER_ROLE`` picks what this process runs: ``forward`` (scale out with the canonical
partitions), ``match`` (exactly one active instance: the match topic has one partition) or
``all`` (both in one process: development, the local bus, small deployments). The ops port
(``ESB_HTTP_PORT``: health, readiness, metrics, the ``/customers`` queries of the matcher) is the
runtime's own with one role, and :class:`~services.customer_merger.ops.JointOpsServer` over both
runtimes with ``all``.
"""

from __future__ import annotations

import signal
import threading

from bus.config import BusSettings
from bus.observability.logging import configure_logging, get_logger
from bus.runtime import Runtime, build_runtime
from bus.service import Service
from services.customer_merger.handler import build_forwarder, build_matcher
from services.customer_merger.ops import JointOpsServer, loopback
from services.customer_merger.settings import CustomerMergerSettings, Role


def main() -> None:
    bus = BusSettings()
    configure_logging(bus.runtime.log_level, bus.runtime.log_json)
    settings = CustomerMergerSettings()
    log = get_logger(service=settings.service_name)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    roles: dict[str, Service] = {}
    if settings.role in (Role.FORWARD, Role.ALL):
        roles["forward"] = build_forwarder(settings)
    if settings.role in (Role.MATCH, Role.ALL):
        roles["match"] = build_matcher(settings)
    # Both roles: one joint ops server on ESB_HTTP_PORT. One role: the runtime's own server is it.
    joint_port = bus.runtime.http_port if len(roles) > 1 else None
    each = bus if joint_port is None else loopback(bus)
    runtimes = {role: build_runtime(service, each) for role, service in roles.items()}
    ops = None
    if joint_port is not None:
        ops = JointOpsServer(bus.runtime.http_host, joint_port, runtimes, runtimes["match"])
    failures: list[BaseException] = []

    def run(runtime: Runtime) -> None:
        try:
            runtime.run(stop)
        except BaseException as exc:
            failures.append(exc)
            stop.set()  # one half died: stop the other so the process exits and is restarted
            raise

    threads = [
        threading.Thread(target=run, args=(runtime,), name=roles[role].name)
        for role, runtime in runtimes.items()
    ]
    log.info("starting", role=str(settings.role), guarantee=str(bus.runtime.guarantee))
    try:
        if ops is not None:
            ops.start()
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            for thread in threads:
                thread.join(0.5)
    finally:
        stop.set()
        if ops is not None:
            ops.stop()
    if failures:
        raise SystemExit(f"customer-merger stopped on {type(failures[0]).__name__}")


if __name__ == "__main__":
    main()
