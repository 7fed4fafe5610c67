"""A two-service chain yields one trace: process -> send -> process, linked through Kafka headers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from bus.serde import AvroCodec
from bus.service import Context, Event, Input, Outgoing, Service
from bus.testing import InMemoryBus
from services.examples.avro_map.service import SCALED_SCHEMA, Amount, AvroMapSettings, Scaled, build_service

pytestmark = pytest.mark.unit

UPSTREAM_TRACEPARENT = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _sink(event: Event[Scaled], ctx: Context) -> Sequence[Outgoing]:
    ctx.log.info("seen", scaled=event.value.scaled)
    return []


def test_two_services_share_one_trace() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    bus = InMemoryBus(tracer_provider=provider)
    bus.deploy(
        build_service(AvroMapSettings(service_name="mapper", input_topic="amounts", output_topic="scaled"))
    )
    bus.deploy(
        Service(
            name="sink", inputs=[Input("scaled", AvroCodec(Scaled, SCALED_SCHEMA))], outputs=[], handler=_sink
        )
    )

    amount = Amount(event_id="e1", account="a", amount=3, occurred_at=datetime.now(UTC))
    bus.publish(
        "amounts", bus.encode("amounts", amount), key=b"a", headers=[("traceparent", UPSTREAM_TRACEPARENT)]
    )

    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"process amounts", "send scaled", "process scaled"}
    assert {format(span.context.trace_id, "032x") for span in spans.values()} == {
        "4bf92f3577b34da6a3ce929d0e0e4736"
    }
    mapper, send, sink = spans["process amounts"], spans["send scaled"], spans["process scaled"]
    assert mapper.parent is not None
    assert format(mapper.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert send.parent is not None
    assert send.parent.span_id == mapper.context.span_id
    assert sink.parent is not None
    assert sink.parent.span_id == send.context.span_id
    assert (mapper.kind, send.kind, sink.kind) == (SpanKind.CONSUMER, SpanKind.PRODUCER, SpanKind.CONSUMER)
    assert mapper.attributes is not None
    assert mapper.attributes["messaging.system"] == "kafka"
    assert mapper.attributes["messaging.destination.name"] == "amounts"
    assert mapper.attributes["messaging.consumer.group.name"] == "mapper"
    (scaled_record,) = bus.topics["scaled"]
    traceparent = dict(scaled_record.headers)["traceparent"].decode()
    assert traceparent.split("-")[2] == format(send.context.span_id, "016x")


def test_without_an_exporter_the_parent_context_is_forwarded_and_logged() -> None:
    bus = InMemoryBus(tracer_provider=None)  # no OTEL endpoint: no SDK, no spans recorded
    bus.deploy(
        build_service(AvroMapSettings(service_name="mapper", input_topic="amounts", output_topic="scaled"))
    )
    bus.deploy(
        Service(
            name="sink", inputs=[Input("scaled", AvroCodec(Scaled, SCALED_SCHEMA))], outputs=[], handler=_sink
        )
    )
    amount = Amount(event_id="e1", account="a", amount=3, occurred_at=datetime.now(UTC))
    tracestate = b"vendor=abc,other=1"

    with structlog.testing.capture_logs() as logs:
        bus.publish(
            "amounts",
            bus.encode("amounts", amount),
            key=b"a",
            headers=[("traceparent", UPSTREAM_TRACEPARENT), ("tracestate", tracestate)],
        )
        bus.publish("amounts", bus.encode("amounts", amount), key=b"b")  # no parent

    first, second = bus.topics["scaled"]
    assert dict(first.headers)["traceparent"] == UPSTREAM_TRACEPARENT
    assert dict(first.headers)["tracestate"] == tracestate
    assert "traceparent" not in dict(second.headers)
    seen = [entry for entry in logs if entry["event"] == "seen"]
    assert [entry["trace_id"] for entry in seen] == ["4bf92f3577b34da6a3ce929d0e0e4736", None]
