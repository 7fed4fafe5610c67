"""Business metrics of the translator, observed from what the handler returns.

``translator_canonical_events_total{event, path}``: canonical events emitted, by event type and by
the path that wrote them: ``compiled`` (a fast path's Avro body, ``esb_native``) or ``adapter``
(the Python adapter's model). A rising ``adapter`` share of Shopify orders means the extension
declines more of the traffic than it did (a new payload shape), or that it is not installed.
Counted per returned batch: a batch re-processed after an aborted transaction counts again. An
event written to several topics (stock movements: ``.v1`` and ``.v2``) counts once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from bus.serde import AvroBody
from bus.service import Emit, Event, Outgoing

__all__ = ["TranslatorMetrics"]


class TranslatorMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.events = Counter(
            "translator_canonical_events",
            "Canonical events emitted, by event type and the path that wrote them (compiled | adapter)",
            ["event", "path"],
            registry=registry,
        )
        self._children: dict[tuple[type, bool], Any] = {}  # label lookups once per kind

    def collectors(self) -> Sequence[Any]:
        return (self.events,)

    def observe(self, event: Event[Any], outgoing: Sequence[Outgoing], /) -> None:
        previous: Any = None
        for item in outgoing:
            if type(item) is not Emit:
                continue
            value = item.value
            if value is previous:
                continue  # one event written to a further topic under another key: counted once
            previous = value
            compiled = type(value) is AvroBody
            kind: type = value.model if compiled else type(value)
            child = self._children.get((kind, compiled))
            if child is None:
                child = self.events.labels(kind.__name__, "compiled" if compiled else "adapter")
                self._children[(kind, compiled)] = child
            child.inc()
