"""Prometheus metrics of one runtime process (own registry; served on ``/metrics``).

The processing loop counts the per-record metrics (records in/out, handler and end-to-end
latency) through :meth:`Metrics.tally`, a local tally only that thread writes: an integer or float
add instead of prometheus_client's lock, validity check and call chain (two to four of them per
record, ~15 % of the runtime's own CPU on a small record). Collecting the registry (a scrape,
``get_sample_value``, ``generate_latest``) first adds what the tallies counted since the last
collection to the Prometheus children, so what is exported is what it was before, as of the
collection.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable
from functools import cache
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric

__all__ = ["CounterTally", "HistogramTally", "Metrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _Tally(Protocol):
    def flush(self) -> None: ...


class CounterTally:
    """A Counter child counted locally; :meth:`flush` adds the new counts to the child.

    Only the processing thread calls :meth:`inc`; flushes (any thread) are serialized by the
    family's lock, and only read ``count``, so no increment is lost or added twice.
    """

    __slots__ = ("_child", "_flushed", "count")

    def __init__(self, child: Counter) -> None:
        self._child = child
        self.count = 0.0
        self._flushed = 0.0

    def inc(self, amount: float = 1) -> None:
        self.count += amount

    def flush(self) -> None:
        count = self.count
        if count != self._flushed:
            self._child.inc(count - self._flushed)
            self._flushed = count


class HistogramTally:
    """A Histogram child observed locally (bucket counts and sum); :meth:`flush` adds them to it."""

    __slots__ = ("_bounds", "_child", "_flushed", "_flushed_sum", "counts", "sum")

    def __init__(self, child: Histogram, bounds: tuple[float, ...]) -> None:
        self._child = child
        self._bounds = bounds  # the upper bounds, +Inf last: bisect_left finds the first bound >= v
        self.counts = [0] * len(bounds)
        self.sum = 0.0
        self._flushed = [0] * len(bounds)
        self._flushed_sum = 0.0

    def observe(self, amount: float) -> None:
        self.sum += amount
        self.counts[bisect_left(self._bounds, amount)] += 1

    def flush(self) -> None:
        # prometheus_client keeps a histogram child as per-bucket (not cumulative) values and a
        # sum; adding to them is what ``observe`` does. tests/unit/runtime/test_metrics_tally.py
        # compares the exposition with per-observation Histograms, should these internals change.
        child: Any = self._child
        total = self.sum
        if total != self._flushed_sum:
            child._sum.inc(total - self._flushed_sum)
            self._flushed_sum = total
        for index, count in enumerate(self.counts):
            if count != self._flushed[index]:
                child._buckets[index].inc(count - self._flushed[index])
                self._flushed[index] = count


class _Tallied(MetricWrapperBase):
    """A metric family whose collection first flushes the tallies of its children."""

    _tallies: list[_Tally]
    _tally_lock: threading.Lock

    def collect(self) -> Iterable[Metric]:
        _flush(self)
        return super().collect()


class _TalliedCounter(_Tallied, Counter):
    pass


class _TalliedHistogram(_Tallied, Histogram):
    pass


def _flush(family: _Tallied) -> None:
    tallies = getattr(family, "_tallies", None)
    if tallies is None:  # a labelled child (prometheus_client builds them with the family's class)
        return
    with family._tally_lock:
        for tally in list(tallies):
            tally.flush()


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["service", "topic"]
        self.records_in = _TalliedCounter(
            "esb_records_in", "Records consumed", labels, registry=self.registry
        )
        self.records_out = _TalliedCounter(
            "esb_records_out", "Records emitted", labels, registry=self.registry
        )
        self.dead_letters = Counter(
            "esb_dead_letters", "Records dead-lettered", [*labels, "stage"], registry=self.registry
        )
        self.retries = Counter("esb_retries", "Handler retries", labels, registry=self.registry)
        self.handler_seconds = _TalliedHistogram(
            "esb_handler_seconds", "Handler latency", labels, buckets=_LATENCY_BUCKETS, registry=self.registry
        )
        self.end_to_end_seconds = _TalliedHistogram(
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
        for family in (self.records_in, self.records_out, self.handler_seconds, self.end_to_end_seconds):
            family._tallies = []
            family._tally_lock = threading.Lock()

    @cache  # noqa: B019 - one Metrics per process; caches the labelled children on the hot path
    def child(self, metric: str, topic: str) -> Any:
        """The (service, topic) child of a per-record metric, looked up once (thread-safe)."""
        return getattr(self, metric).labels(self.service, topic)

    @cache  # noqa: B019 - as child()
    def tally(self, metric: str, topic: str) -> Any:
        """The (service, topic) tally of a per-record metric (``records_in``, ``records_out``,
        ``handler_seconds``, ``end_to_end_seconds``) for one thread's use: the processing loop's.
        Collecting the registry adds its counts to the Prometheus child. Threads that share a
        series (a sink's delivery workers) use :meth:`child`."""
        family: _Tallied = getattr(self, metric)
        child: Any = family.labels(self.service, topic)
        tally: CounterTally | HistogramTally
        if isinstance(family, _TalliedHistogram):
            tally = HistogramTally(child, tuple(child._upper_bounds))
        else:
            tally = CounterTally(child)
        with family._tally_lock:
            family._tallies.append(tally)
        return tally
