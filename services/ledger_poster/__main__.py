"""``python -m services.ledger_poster``: settings, chart, handler and runtime wired together."""

from __future__ import annotations

from bus.config import BusSettings
from bus.errors import FatalError
from bus.observability.logging import configure_logging
from bus.runtime import run_service
from services.ledger_poster.chart import ChartError, load_chart
from services.ledger_poster.handler import STORE_LEDGER
from services.ledger_poster.queries import ChangelogReplica, QueryServer
from services.ledger_poster.service import build_service
from services.ledger_poster.settings import LedgerPosterSettings


def main() -> None:
    bus_settings = BusSettings()
    configure_logging(bus_settings.runtime.log_level, bus_settings.runtime.log_json)
    settings = LedgerPosterSettings()
    try:
        chart = load_chart(settings.chart_path)
    except ChartError as exc:
        raise FatalError(str(exc)) from exc
    service = build_service(settings, chart)
    server = None
    replica = None
    if settings.query_port is not None:
        replica = ChangelogReplica(
            bus_settings.kafka.client_config(),
            service.changelog_topic(STORE_LEDGER),
            settings.query_partitions,
            settings.query_dir / bus_settings.runtime.instance_id,
        )
        server = QueryServer(settings.query_host, settings.query_port, chart, replica)
        server.start()
    try:
        run_service(service, bus_settings)
    finally:
        if server is not None:
            server.stop()
        if replica is not None:
            replica.close()


if __name__ == "__main__":
    main()
