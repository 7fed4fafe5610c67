"""Business metrics of the router, observed from what the handler returns.

Declared on the service (``Service(metrics=[RouterMetrics()])``): the runtime registers them on its
Prometheus registry (served on ``/metrics``) and feeds them what the handler returned. They
count what the handler *returned*: a batch re-processed after an aborted transaction counts again,
so read them as rates, not as the ledger (the routed-orders topic is the ledger).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from bus.service import Emit, Event, Outgoing
from schemas.orders.models import RoutedOrderEvent
from services.order_router.records import FIRST_ROUTED

__all__ = ["RouterMetrics"]


class RouterMetrics:
    def __init__(
        self, registry: CollectorRegistry | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self.routed = Counter(
            "order_router_decisions",
            "Routed-order events by event type (order.routed = first routing of an order)",
            ["event_type"],
            registry=registry,
        )
        self.split = Counter(
            "order_router_orders_split",
            "Orders whose first routing ships from more than one location",
            registry=registry,
        )
        self.backordered_units = Counter(
            "order_router_backordered_units",
            "Units backordered when orders were first routed",
            registry=registry,
        )
        self.placed_to_routed = Histogram(
            "order_router_placed_to_routed_seconds",
            "From the order's placed-at to its first routing decision",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 86400),
            registry=registry,
        )

    def collectors(self) -> Sequence[Any]:
        return (self.routed, self.split, self.backordered_units, self.placed_to_routed)

    def observe(self, event: Event[Any], outgoing: Sequence[Outgoing], /) -> None:
        self.observe_outputs(outgoing)

    def observe_outputs(self, outgoing: Sequence[Outgoing]) -> None:
        for item in outgoing:
            if not isinstance(item, Emit) or not isinstance(item.value, RoutedOrderEvent):
                continue
            routed = item.value
            self.routed.labels(routed.metadata.event_type).inc()
            if routed.metadata.event_type != FIRST_ROUTED:
                continue
            locations = {a.location for a in routed.allocations if a.location is not None}
            if len(locations) > 1:
                self.split.inc()
            self.backordered_units.inc(sum(a.quantity for a in routed.allocations if a.location is None))
            seconds = (self._clock() - routed.placed_at).total_seconds()
            self.placed_to_routed.observe(max(seconds, 0.0))
