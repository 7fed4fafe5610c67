"""Prometheus metrics of a sink (on the process's registry, served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["SinkMetrics"]


class SinkMetrics:
    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.paused = Gauge(
            "esb_sink_paused_partitions",
            "Partitions waiting for a RetryAt deadline",
            ["service"],
            registry=registry,
        ).labels(service)
        self.in_flight = Gauge(
            "esb_sink_in_flight", "Records being delivered per lane", ["service", "lane"], registry=registry
        )
        self.outcomes = Counter(
            "esb_sink_outcomes",
            "Delivery outcomes (done, retryat, reject)",
            ["service", "outcome"],
            registry=registry,
        )
        self.service = service
