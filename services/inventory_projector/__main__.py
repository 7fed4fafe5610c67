"""``python -m services.inventory_projector``: settings, the service and the runtime, wired."""

from __future__ import annotations

from bus.config import BusSettings
from bus.observability.logging import configure_logging
from bus.runtime import run_service
from services.inventory_projector.handler import build_service
from services.inventory_projector.settings import ProjectorSettings

__all__ = ["main", "with_query_port"]


def with_query_port(bus: BusSettings, settings: ProjectorSettings) -> BusSettings:
    """``INVENTORY_PROJECTOR_QUERY_PORT`` opens the runtime's ops port (which serves ``GET /atp/...``)
    on that port when ``ESB_HTTP_PORT`` is unset; with both set, the ops port wins."""
    if settings.query_port is None or bus.runtime.http_port is not None:
        return bus
    runtime = bus.runtime.model_copy(
        update={"http_port": settings.query_port, "http_host": settings.query_host}
    )
    return bus.model_copy(update={"runtime": runtime})


def main() -> None:
    bus = BusSettings()
    configure_logging(bus.runtime.log_level, bus.runtime.log_json)
    settings = ProjectorSettings()
    run_service(build_service(settings), with_query_port(bus, settings))


if __name__ == "__main__":
    main()
