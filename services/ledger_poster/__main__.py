"""``python -m services.ledger_poster``: settings, chart, handler and runtime wired together."""

from __future__ import annotations

from bus.config import BusSettings
from bus.errors import FatalError
from bus.observability.logging import configure_logging
from bus.runtime import run_service
from services.ledger_poster.chart import ChartError, load_chart
from services.ledger_poster.service import build_service
from services.ledger_poster.settings import LedgerPosterSettings


def _with_query_port(bus_settings: BusSettings, settings: LedgerPosterSettings) -> BusSettings:
    """``LEDGER_POSTER_QUERY_PORT`` (kept for existing deployments) opens the runtime's ops port,
    which serves the trial balance, unless ``ESB_HTTP_PORT`` is set."""
    if settings.query_port is None or bus_settings.runtime.http_port is not None:
        return bus_settings
    runtime = bus_settings.runtime.model_copy(
        update={"http_port": settings.query_port, "http_host": settings.query_host}
    )
    return bus_settings.model_copy(update={"runtime": runtime})


def main() -> None:
    bus_settings = BusSettings()
    configure_logging(bus_settings.runtime.log_level, bus_settings.runtime.log_json)
    settings = LedgerPosterSettings()
    try:
        chart = load_chart(settings.chart_path)
    except ChartError as exc:
        raise FatalError(str(exc)) from exc
    run_service(build_service(settings, chart), _with_query_port(bus_settings, settings))


if __name__ == "__main__":
    main()
