"""Prometheus metrics of one runtime process (own registry; served on ``/metrics``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["service", "topic"]
        self.records_in = Counter("esb_records_in", "Records consumed", labels, registry=self.registry)
        self.records_out = Counter("esb_records_out", "Records emitted", labels, registry=self.registry)
        self.dead_letters = Counter(
            "esb_dead_letters", "Records dead-lettered", [*labels, "stage"], registry=self.registry
        )
        self.retries = Counter("esb_retries", "Handler retries", labels, registry=self.registry)
        self.handler_seconds = Histogram(
            "esb_handler_seconds", "Handler latency", labels, buckets=_LATENCY_BUCKETS, registry=self.registry
        )
        self.end_to_end_seconds = Histogram(
            "esb_end_to_end_seconds",
            "From the event's occurred-at to its processing",
            labels,
            buckets=(*_LATENCY_BUCKETS, 120, 300, 900, 3600),
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "esb_consumer_lag",
            "High watermark minus position",
            [*labels, "partition"],
            registry=self.registry,
        )
        self.commit_seconds = Histogram(
            "esb_transaction_commit_seconds",
            "Checkpoint commit time",
            ["service", "guarantee"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.aborts = Counter(
            "esb_transaction_aborts", "Aborted checkpoints", ["service"], registry=self.registry
        )
        self.producer_recreations = Counter(
            "esb_producer_recreations", "Producer re-creations", ["service"], registry=self.registry
        )
        self.service_metric_errors = Counter(
            "esb_service_metric_errors",
            "Exceptions raised by a service's own metrics (the sample is lost, not the record)",
            ["service"],
            registry=self.registry,
        )
        self.service = service

    @cache  # noqa: B019 - one Metrics per process; caches the labelled children on the hot path
    def child(self, metric: str, topic: str) -> Any:
        """The (service, topic) child of a per-record metric, looked up once."""
        return getattr(self, metric).labels(self.service, topic)
