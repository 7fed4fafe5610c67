"""Prometheus metrics of a sink (on the process's registry, served on ``/metrics``).

Besides its own gauges and outcome counter, a sink counts what a runtime service counts, on the
same families (:class:`bus.observability.metrics.Metrics`), so ``esb status`` reads both alike:
``esb_records_in{topic}`` (a record's first delivery attempt), ``esb_records_out{topic}`` (records
delivered, labelled with the input topic they came from: the target is not a topic),
``esb_handler_seconds{topic}`` (each ``deliver`` call) and ``esb_dead_letters{topic,stage=deliver}``.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from bus.observability.metrics import Metrics

__all__ = ["SinkMetrics"]


class SinkMetrics:
    def __init__(self, metrics: Metrics) -> None:
        service, registry = metrics.service, metrics.registry
        self.runtime = metrics
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
