"""``python -m services.inventory_projector``: settings, the service and the runtime, wired."""

from __future__ import annotations

import signal
import threading

from bus.config import BusSettings
from bus.observability.logging import configure_logging, get_logger
from bus.runtime import build_runtime
from services.inventory_projector.handler import SKUS, build_service
from services.inventory_projector.queries import AtpQueries, QueryServer
from services.inventory_projector.settings import ProjectorSettings


def main() -> None:
    bus = BusSettings()
    configure_logging(bus.runtime.log_level, bus.runtime.log_json)
    settings = ProjectorSettings()
    service = build_service(settings)
    log = get_logger(service=service.name)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    runtime = build_runtime(service, bus)
    server = None
    if settings.query_port is not None:
        state = getattr(runtime, "state", None)  # the runtime's store API, where it exposes one
        if state is None:
            log.warning("ATP queries off: this runtime exposes no state stores", port=settings.query_port)
        else:
            server = QueryServer(settings.query_host, settings.query_port, AtpQueries(state, SKUS))
            server.start()
    log.info("starting", guarantee=str(bus.runtime.guarantee))
    try:
        runtime.run(stop)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
