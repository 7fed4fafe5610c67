"""``python -m services.gateway``: wire settings, producer, dedupe cache and app, then serve."""

from __future__ import annotations

import uvicorn

from bus.config import KafkaSettings, TelemetrySettings
from services.gateway.app import create_app
from services.gateway.dedupe import SeenEvents
from services.gateway.producer import IngressProducer, producer_config
from services.gateway.settings import GatewaySettings
from services.gateway.telemetry import configure_logging, configure_tracing

__all__ = ["main"]


def main() -> None:
    configure_logging()
    settings = GatewaySettings()
    kafka = KafkaSettings()  # type: ignore[call-arg]  # bootstrap_servers comes from the environment
    tracing = configure_tracing(TelemetrySettings(), default_service_name="esb-gateway")
    producer = IngressProducer(
        producer_config(
            kafka.client_config(),
            client_id=f"{kafka.client_id_prefix}-gateway",
            delivery_timeout_ms=settings.delivery_timeout_ms,
        )
    )
    seen = SeenEvents(settings.dedupe_ttl_s, settings.dedupe_max_entries)
    app = create_app(settings, producer, seen)
    try:
        # uvicorn's access log is off: URLs are harmless, but the gateway logs each outcome itself.
        # loop/http "auto" pick uvloop and httptools (dependencies): ~40 us of server CPU per request
        # instead of ~110 us with asyncio + h11, measured with the same client on the dev machine.
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            access_log=False,
            log_config=None,
            loop="auto",
            http="auto",
        )
    finally:
        producer.close()
        tracing.shutdown()


if __name__ == "__main__":
    main()
