"""Process-wide tracing and JSON logging for the gateway (called from ``main()`` only)."""

from __future__ import annotations

import logging

import structlog
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from bus.config import TelemetrySettings

__all__ = ["configure_logging", "configure_tracing"]


def configure_tracing(settings: TelemetrySettings, default_service_name: str) -> TracerProvider:
    """An SDK tracer provider, exporting over OTLP/HTTP when an endpoint is configured.

    Even without an exporter the SDK provider is installed: spans then still have valid ids, so
    every ingress record carries a ``traceparent`` the rest of the flow can continue.
    """
    resource = Resource.create({"service.name": settings.service_name or default_service_name})
    provider = TracerProvider(resource=resource)
    if settings.exporter_otlp_endpoint and not settings.sdk_disabled:
        endpoint = settings.exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    return provider


def configure_logging(level: int = logging.INFO) -> None:
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
