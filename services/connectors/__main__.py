"""``python -m services.connectors`` / ``esb run connectors``: a sink, at-least-once by nature."""

from __future__ import annotations

from bus.config import BusSettings, ProcessingGuarantee
from bus.errors import FatalError
from bus.observability.logging import configure_logging
from bus.sink import run_sink
from services.connectors.deliver import Deliverer
from services.connectors.handler import build_sink
from services.connectors.settings import ConnectorSettings


def main() -> None:
    bus = BusSettings()
    configure_logging(bus.runtime.log_level, bus.runtime.log_json)
    if bus.runtime.guarantee is not ProcessingGuarantee.AT_LEAST_ONCE:
        # HTTP calls are outside any Kafka transaction: exactly-once would only add aborts.
        raise FatalError("the delivery connector runs with ESB_GUARANTEE=at_least_once")
    settings = ConnectorSettings()  # type: ignore[call-arg]
    deliverer = Deliverer(settings.accounts, max_error_body=settings.max_error_body_bytes)
    try:
        run_sink(build_sink(settings, deliverer), bus)
    finally:
        deliverer.close()


if __name__ == "__main__":
    main()
