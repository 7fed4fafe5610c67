"""The per-record metrics are tallied locally; what a collection exports must be what
prometheus_client's own Counter/Histogram would export for the same increments and observations."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from bus.observability.metrics import Metrics

pytestmark = pytest.mark.unit

_LATENCY = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# On a bound (le is inclusive), between bounds, 0, past the last finite bound (+Inf).
_SAMPLES = [0.0, 0.0005, 0.0007, 0.001, 0.3, 2.5, 59.9, 60.0, 61.0, 4000.0, 0.0005, 1e-9]


def _reference(samples: list[float], rounds: int) -> bytes:
    registry = CollectorRegistry()
    labels = ["service", "topic"]
    records_in = Counter("esb_records_in", "Records consumed", labels, registry=registry)
    handler = Histogram("esb_handler_seconds", "Handler latency", labels, buckets=_LATENCY, registry=registry)
    for _ in range(rounds):
        for value in samples:
            records_in.labels("svc", "t").inc()
            handler.labels("svc", "t").observe(value)
    return generate_latest(registry)


def _only(text: bytes, *families: str) -> list[str]:
    return [line for line in text.decode().splitlines() if line.startswith(families)]


def test_a_collection_exports_what_prometheus_client_would() -> None:
    metrics = Metrics("svc")
    records_in, handler = metrics.tally("records_in", "t"), metrics.tally("handler_seconds", "t")
    families = ("esb_records_in_total", "esb_handler_seconds_bucket", "esb_handler_seconds_count")
    for rounds in (1, 2, 3):  # collections in between: each adds only what is new
        for value in _SAMPLES:
            records_in.inc()
            handler.observe(value)
        assert _only(generate_latest(metrics.registry), *families) == _only(
            _reference(_SAMPLES, rounds), *families
        )
    exported_sum = metrics.registry.get_sample_value(
        "esb_handler_seconds_sum", {"service": "svc", "topic": "t"}
    )
    assert exported_sum == pytest.approx(3 * sum(_SAMPLES))


def test_get_sample_value_sees_tallies_and_direct_increments() -> None:
    metrics = Metrics("svc")
    labels = {"service": "svc", "topic": "t"}
    metrics.tally("records_out", "t").inc()
    metrics.tally("records_out", "t").inc(2)
    metrics.records_out.labels("svc", "t").inc(10)  # outside the tally, as before
    metrics.child("records_out", "t").inc(20)  # the thread-safe child (a sink's workers)
    assert metrics.registry.get_sample_value("esb_records_out_total", labels) == 33
    assert metrics.registry.get_sample_value("esb_records_out_total", labels) == 33  # not added twice
    metrics.tally("end_to_end_seconds", "t").observe(0.2)
    assert metrics.registry.get_sample_value("esb_end_to_end_seconds_count", labels) == 1
    assert metrics.registry.get_sample_value("esb_end_to_end_seconds_bucket", {**labels, "le": "0.1"}) == 0
    assert metrics.registry.get_sample_value("esb_end_to_end_seconds_bucket", {**labels, "le": "0.25"}) == 1


def test_the_tally_of_a_label_set_is_one_object() -> None:
    metrics = Metrics("svc")
    assert metrics.tally("records_in", "a") is metrics.tally("records_in", "a")
    assert metrics.tally("records_in", "a") is not metrics.tally("records_in", "b")
