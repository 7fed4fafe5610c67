"""A service's own Prometheus metrics: registered on the runtime's registry, fed its outputs."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import Counter

from bus.service import Emit, Event, Outgoing
from bus.testing import InMemoryBus
from services.examples.running_total.models import Amount
from services.examples.running_total.service import RunningTotalSettings, build_service

pytestmark = pytest.mark.unit

IN, OUT = "amounts", "totals"


class BigTotals:
    def __init__(self) -> None:
        self.big = Counter("running_total_big", "Totals over 10", ["account"], registry=None)
        self.seen: list[tuple[str, int]] = []

    def collectors(self) -> Sequence[Any]:
        return [self.big]

    def observe(self, event: Event[Any], outgoing: Sequence[Outgoing], /) -> None:
        self.seen.append((event.topic, event.offset))
        for item in outgoing:
            if isinstance(item, Emit) and item.value.total > 10:
                self.big.labels(item.value.account).inc()


class Broken:
    def collectors(self) -> Sequence[Any]:
        return []

    def observe(self, event: Event[Any], outgoing: Sequence[Outgoing], /) -> None:
        raise ValueError("bug in a metric")


def _send(bus: InMemoryBus, account: str, amount: int, n: int) -> None:
    value = Amount(event_id=f"e{n}", account=account, amount=amount, occurred_at=datetime.now(UTC))
    bus.publish(IN, bus.encode(IN, value), key=account.encode())


def test_service_metrics_are_served_by_the_runtime_registry_and_see_each_handled_record() -> None:
    own = BigTotals()
    service = build_service(RunningTotalSettings(service_name="rt", input_topic=IN, output_topic=OUT))
    bus = InMemoryBus()
    bus.deploy(dataclasses.replace(service, metrics=[own, Broken()]))
    for n, (account, amount) in enumerate([("a", 6), ("a", 6), ("b", 1), ("a", -1), ("a", 1)]):
        _send(bus, account, amount, n)

    registry = bus.metrics("rt").registry
    assert registry.get_sample_value("running_total_big_total", {"account": "a"}) == 2
    assert registry.get_sample_value("running_total_big_total", {"account": "b"}) is None
    assert own.seen == [(IN, 0), (IN, 1), (IN, 2), (IN, 4)]  # not the dead-lettered offset 3
    assert len(bus.topics[OUT]) == 4  # the broken metric lost samples, not records
    assert registry.get_sample_value("esb_service_metric_errors_total", {"service": "rt"}) == 4
