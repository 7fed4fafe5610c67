"""Read a process's Prometheus page into the KPIs `esb status` shows.

Runtime services export ``esb_records_in/out``, ``esb_dead_letters``, ``esb_handler_seconds``,
``esb_end_to_end_seconds`` and ``esb_consumer_lag`` (see bus/README.md); the gateway exports
``esb_gateway_webhooks{provider,outcome}`` and ``esb_gateway_produce_seconds``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

__all__ = ["Histogram", "ServiceKpis", "histogram_quantile", "kpis_from_text", "scrape"]


@dataclass(slots=True)
class Histogram:
    """Cumulative bucket counts by upper bound (summed over label sets)."""

    buckets: dict[float, float] = field(default_factory=dict)
    count: float = 0.0
    total: float = 0.0

    def add(self, other: Histogram) -> None:
        for bound, value in other.buckets.items():
            self.buckets[bound] = self.buckets.get(bound, 0.0) + value
        self.count += other.count
        self.total += other.total

    def quantile(self, q: float) -> float | None:
        return histogram_quantile(q, self.buckets)


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """Prometheus' ``histogram_quantile``: linear interpolation inside the bucket holding rank q."""
    ordered = sorted(buckets.items())
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, cumulative in ordered:
        if cumulative >= rank:
            if math.isinf(bound):
                return lower_bound  # beyond the last finite bucket: its bound is all we know
            width = cumulative - lower_count
            fraction = (rank - lower_count) / width if width else 1.0
            return lower_bound + (bound - lower_bound) * fraction
        lower_bound, lower_count = bound, cumulative
    return lower_bound


@dataclass(slots=True)
class ServiceKpis:
    records_in: float = 0.0
    records_out: float = 0.0
    dead_letters: float = 0.0
    retries: float = 0.0
    lag: float = 0.0
    out_by_topic: dict[str, float] = field(default_factory=dict)
    dlq_by_stage: dict[str, float] = field(default_factory=dict)
    handler: Histogram = field(default_factory=Histogram)
    end_to_end: Histogram = field(default_factory=Histogram)
    webhooks: dict[str, float] = field(default_factory=dict)  # gateway: outcome -> count
    errors: float = 0.0  # records dead-lettered, or webhooks refused/failed


def _histograms(samples: Iterable[Sample]) -> Histogram:
    result = Histogram()
    for sample in samples:
        if sample.name.endswith("_bucket"):
            bound = float(sample.labels["le"])
            result.buckets[bound] = result.buckets.get(bound, 0.0) + sample.value
        elif sample.name.endswith("_count"):
            result.count += sample.value
        elif sample.name.endswith("_sum"):
            result.total += sample.value
    return result


def kpis_from_text(text: str) -> ServiceKpis:
    kpis = ServiceKpis()
    out_by_topic: dict[str, float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        name = family.name.removesuffix("_total")
        totals = [s for s in family.samples if s.name in (name, f"{name}_total")]
        value = sum(s.value for s in totals)
        if name == "esb_records_in":
            kpis.records_in = value
        elif name == "esb_records_out":
            kpis.records_out = value
            for sample in totals:
                out_by_topic[sample.labels.get("topic", "")] += sample.value
        elif name == "esb_dead_letters":
            kpis.dead_letters = value
            for sample in totals:
                stage = sample.labels.get("stage", "")
                kpis.dlq_by_stage[stage] = kpis.dlq_by_stage.get(stage, 0.0) + sample.value
        elif name == "esb_retries":
            kpis.retries = value
        elif name == "esb_consumer_lag":
            kpis.lag = value
        elif name == "esb_handler_seconds":
            kpis.handler = _histograms(family.samples)
        elif name == "esb_end_to_end_seconds":
            kpis.end_to_end = _histograms(family.samples)
        elif name == "esb_gateway_webhooks":
            for sample in totals:
                outcome = sample.labels.get("outcome", "")
                kpis.webhooks[outcome] = kpis.webhooks.get(outcome, 0.0) + sample.value
        elif name == "esb_gateway_produce_seconds":
            kpis.handler = _histograms(family.samples)
    kpis.out_by_topic = dict(out_by_topic)
    if kpis.webhooks:
        accepted = sum(v for k, v in kpis.webhooks.items() if k in ("written", "duplicate", "ping"))
        kpis.records_in = sum(kpis.webhooks.values())
        kpis.records_out = accepted
        kpis.errors = kpis.records_in - accepted
    else:
        kpis.errors = kpis.dead_letters
    return kpis


def scrape(url: str, timeout_s: float = 2.0) -> ServiceKpis | None:
    """None when the page cannot be read (process down or not serving metrics)."""
    try:
        response = httpx.get(url, timeout=timeout_s)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return kpis_from_text(response.text)
