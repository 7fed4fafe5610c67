"""``python -m services.order_router`` / ``esb run order_router``: settings, rules, service, runtime."""

from __future__ import annotations

import signal
import threading

from bus.config import BusSettings
from bus.observability.logging import configure_logging, get_logger
from bus.runtime import build_runtime
from services.order_router.handler import build_service
from services.order_router.metrics import RouterMetrics
from services.order_router.rules import load_rules
from services.order_router.settings import RouterSettings


def main() -> None:
    bus = BusSettings()
    configure_logging(bus.runtime.log_level, bus.runtime.log_json)
    settings = RouterSettings()
    rules = load_rules(settings.rules_path)  # a broken file stops the process here, with the reasons
    service = build_service(settings, rules, metrics=[RouterMetrics()])
    runtime = build_runtime(service, bus)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    get_logger(service=service.name).info(
        "starting", guarantee=str(bus.runtime.guarantee), rules_version=rules.version, rules=len(rules.rules)
    )
    runtime.run(stop)


if __name__ == "__main__":
    main()
