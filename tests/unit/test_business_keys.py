"""Business keys on the process span: an SRE finds an order's trace by its id, SKU or customer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bus.serde import JsonCodec
from bus.service import Context, Event, Input, Outgoing, Service
from bus.testing import InMemoryBus
from schemas.business_keys import business_keys
from tests.canonical_samples import sample_order_event

pytestmark = pytest.mark.unit


def test_an_order_event_yields_its_ids() -> None:
    event = sample_order_event()
    keys = business_keys(event)
    assert keys["esb.order_id"] == str(event.order.order_id)
    assert keys["esb.order_number"] == event.order.display_number
    assert business_keys(b"raw bytes") == {}


def _ignore(event: Event[Any], ctx: Context) -> Sequence[Outgoing]:
    return []


def test_the_runtime_puts_a_services_span_attributes_on_the_process_span() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    bus = InMemoryBus(tracer_provider=provider)
    order = sample_order_event()
    bus.deploy(
        Service(
            name="router",
            inputs=[Input("orders", JsonCodec(type(order)))],
            outputs=[],
            handler=_ignore,
            span_attributes=business_keys,
        )
    )
    bus.publish("orders", order.model_dump_json().encode(), key=b"o")
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "process orders"]
    assert span.attributes is not None
    assert span.attributes["esb.order_id"] == str(order.order.order_id)
