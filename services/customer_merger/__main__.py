"""``python -m services.customer_merger``: settings, the two services and the runtime, wired.

``CUSTOMER_MERGER_ROLE`` picks what this process runs: ``forward`` (scale out with the canonical
partitions), ``match`` (exactly one active instance: the match topic has one partition) or
``all`` (both in one process, for development and small deployments).
"""

from __future__ import annotations

import signal
import threading

from bus.config import BusSettings
from bus.observability.logging import configure_logging, get_logger
from bus.runtime import Runtime, build_runtime
from services.customer_merger.handler import STORE, build_forwarder, build_matcher
from services.customer_merger.queries import CustomerQueries, QueryServer
from services.customer_merger.settings import CustomerMergerSettings, Role


def main() -> None:
    bus = BusSettings()
    configure_logging(bus.runtime.log_level, bus.runtime.log_json)
    settings = CustomerMergerSettings()
    log = get_logger(service=settings.service_name)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    services = []
    if settings.role in (Role.FORWARD, Role.ALL):
        services.append(build_forwarder(settings))
    if settings.role in (Role.MATCH, Role.ALL):
        services.append(build_matcher(settings))
    runtimes = [build_runtime(service, bus) for service in services]
    server = None
    matcher = runtimes[-1] if settings.role in (Role.MATCH, Role.ALL) else None
    if settings.http_port is not None and matcher is not None:
        state = getattr(matcher, "state", None)  # the runtime's store API, where it exposes one
        if state is None:
            log.warning("customer queries off: this runtime exposes no state stores", port=settings.http_port)
        else:
            server = QueryServer(
                settings.http_host, settings.http_port, CustomerQueries.from_runtime(state, STORE, settings)
            )
            server.start()
    failures: list[BaseException] = []

    def run(runtime: Runtime) -> None:
        try:
            runtime.run(stop)
        except BaseException as exc:
            failures.append(exc)
            stop.set()  # one half died: stop the other so the process exits and is restarted
            raise

    threads = [
        threading.Thread(target=run, args=(runtime,), name=service.name)
        for runtime, service in zip(runtimes, services, strict=True)
    ]
    log.info("starting", role=str(settings.role), guarantee=str(bus.runtime.guarantee))
    try:
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            for thread in threads:
                thread.join(0.5)
    finally:
        stop.set()
        if server is not None:
            server.stop()
    if failures:
        raise SystemExit(f"customer-merger stopped on {type(failures[0]).__name__}")


if __name__ == "__main__":
    main()
