"""``python -m services.connectors`` / ``esb run connectors``: a sink, at-least-once by nature."""

from __future__ import annotations

import os

import httpx
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

from bus.config import BusSettings, ProcessingGuarantee
from bus.errors import FatalError
from bus.observability.logging import configure_logging
from bus.observability.tracing import build_tracer_provider
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
    provider = build_tracer_provider(settings.service_name, bus.runtime.instance_id, bus.telemetry)
    client = httpx.Client()
    if provider is not None:
        # A CLIENT span per target call, inside the record's process span, and its traceparent
        # in the request: the document's delivery is the last hop of the order's trace. Stable
        # HTTP attribute names (http.response.status_code, url.full), as the runtime's spans use
        # the current messaging ones.
        os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)
    deliverer = Deliverer(settings.accounts, client=client, max_error_body=settings.max_error_body_bytes)
    try:
        run_sink(build_sink(settings, deliverer), bus, tracer_provider=provider)
    finally:
        deliverer.close()


if __name__ == "__main__":
    main()
